// Opens a session to an MX host for the pool: resolves the name; keeps the
// addresses the AddressPolicy allows (checked on the very addresses
// connected to: no DNS rebinding); holds back while outbound port 25 seems
// blocked; then connects to the allowed addresses in turn while connections
// are refused or reset, from the next source address of the target's
// family. Each TCP outcome feeds the port 25 health. On the io_context
// thread only.
#pragma once

#include <asio/io_context.hpp>
#include <asio/ip/address.hpp>
#include <asio/ssl/context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "net/outbound_smtp_health.hpp"
#include "net/session_lease.hpp"
#include "net/smtp_prober.hpp"

namespace mailsentry {

struct AllowedAddresses {
  std::vector<asio::ip::address> allowed;
  std::vector<std::string> refusals;  // the policy's reason for each other one
};
AllowedAddresses apply_policy(const std::vector<asio::ip::address>& addresses,
                              const AddressPolicy& policy);
// What a failed lookup says about the host: NXDOMAIN or no data is its own
// fact; a lookup that failed may pass.
MailHostReach unresolved_reach(DnsStatus status);
// What the port 25 health learns from a TCP connect (nothing: not tried, or
// an error that says nothing about port 25).
std::optional<ConnectOutcome> connect_outcome(TcpConnect tcp);
// What an opening says about the host; `every_connect_refused`: each address
// tried before refused too.
MailHostReach opening_reach(const OpenResult& result, bool every_connect_refused,
                            bool port25_blocked);
SessionConfig session_config(const std::string& host, const SmtpOptions& options);

// Source addresses in turn, one per connection, of the target's family.
class SourceRotation {
 public:
  std::optional<asio::ip::address> next(const asio::ip::address& target,
                                        const std::vector<asio::ip::address>& sources);

 private:
  std::size_t index_ = 0;
};

class SessionOpener : public std::enable_shared_from_this<SessionOpener> {
 public:
  using Done = std::function<void(SessionLease)>;

  SessionOpener(asio::io_context& io, HostResolver resolve_host, SmtpOptions options,
                std::shared_ptr<OutboundSmtpHealth> outbound_health);
  void set_options(SmtpOptions options) { options_ = std::move(options); }

  // `done` runs once, from a handler: a lease with a fresh session, or
  // with the problem. After shutdown(): problem shut_down, with the session
  // when one had opened meanwhile (the caller QUITs it).
  void open(const std::string& host, std::chrono::milliseconds step_timeout, Done done);
  void shutdown();
  // Sessions being opened are closed: they end as aborted.
  void close_opening();

 private:
  // A session being opened: the request, the allowed addresses (tried in
  // turn while connections are refused or reset) and what came so far.
  struct Opening {
    std::string host;
    std::chrono::milliseconds step_timeout{1500};
    Done done;
    std::vector<asio::ip::address> addresses;
    std::size_t index = 0;
    bool every_connect_refused = true;  // each address tried so far said ECONNREFUSED
    std::vector<std::string> warnings;
    std::vector<std::string> transcript;
  };

  void on_resolved(Opening opening, AddressAnswer answer);
  void connect_to(Opening opening);
  void on_connected(Opening opening, const std::shared_ptr<SmtpSession>& session,
                    OpenResult result);
  static void fail(Opening opening, LeaseProblem problem, MailHostReach reach);

  asio::io_context& io_;
  HostResolver resolve_host_;
  SmtpOptions options_;
  std::shared_ptr<asio::ssl::context> tls_context_;
  std::shared_ptr<OutboundSmtpHealth> outbound_health_;
  std::vector<std::weak_ptr<SmtpSession>> opening_;  // closed at shutdown
  SourceRotation sources_;
  bool shut_down_ = false;
};

}  // namespace mailsentry
