// SMTP mailbox probing: EHLO/HELO, STARTTLS, MAIL FROM, RCPT TO, RSET, QUIT,
// never DATA. Sessions are pooled per MX host and reused; probes waiting for
// the same host share transactions (many RCPTs per MAIL FROM); each domain's
// catch-all status is probed once and remembered; a circuit breaker protects
// slow or hostile MXes. This is the public face; the work is done by the
// ProberCore (prober_core.hpp) and the SmtpPool (smtp_pool.hpp).
#pragma once

#include <asio/io_context.hpp>
#include <asio/ip/address.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "net/address_policy.hpp"
#include "net/dns_resolver.hpp"
#include "net/mail_host_reach.hpp"
#include "net/network_facts.hpp"
#include "net/outbound_smtp_health.hpp"

namespace mailsentry {

enum class StartTlsMode { off, opportunistic, required };

// Server-wide settings of the prober (mailsentry.* GUCs, reloaded on SIGHUP).
struct SmtpOptions {
  std::uint16_t port = 25;  // tests point this at their own servers
  std::string helo_name = "localhost";
  std::string mail_from;  // reverse-path; "" sends MAIL FROM:<>
  StartTlsMode starttls = StartTlsMode::opportunistic;
  AddressPolicy address_policy;
  int max_connections_per_mx = 2;
  int max_connections_total = 64;
  int max_recipients_per_session = 50;
  int max_rejections_per_session = 8;  // stay under MTA limits (Postfix slows down after 10)
  std::chrono::milliseconds idle_timeout{5000};
  int breaker_failure_threshold = 3;  // consecutive timeouts/refusals that open the breaker
  std::chrono::milliseconds breaker_cooldown{60000};
  std::chrono::milliseconds backoff_after_421{30000};
  std::vector<asio::ip::address> source_addresses;  // rotated per connection; empty = any
  bool log_transcripts = false;
  std::chrono::milliseconds catch_all_memory{24 * 3600 * 1000};
  OutboundHealthOptions outbound_health;  // when port 25 counts as blocked or working
};

// Per-request settings (they travel with each request, so a session's SET
// applies to its own calls).
struct ProbeSettings {
  // Progressive timeouts: attempt n uses timeouts[n] for each step; retried
  // only after a timeout or connection error, never after a definitive reply.
  std::vector<std::chrono::milliseconds> timeouts{std::chrono::milliseconds(1500),
                                                  std::chrono::milliseconds(2500),
                                                  std::chrono::milliseconds(3500)};
  bool extended = false;  // re-probe a greylisted or catch-all answer once
  std::chrono::milliseconds greylist_retry_delay{3000};
};

struct ProbeRequest {
  std::string recipient;   // the normalized address for RCPT TO
  std::string domain;      // ASCII domain: the catch-all memory's key
  std::vector<MxHost> mx;  // preference order (implicit MX: the domain itself)
  bool needs_smtputf8 = false;
  ProbeSettings settings;
};

struct ProbeResult {
  SmtpOutcome outcome = SmtpOutcome::inconclusive;
  bool mailbox_full = false;
  bool greylisted = false;
  std::optional<bool> catch_all;  // set when the domain's catch-all status is known
  std::string mx_host;            // the host that answered
  std::optional<int> code;        // the RCPT reply code that decided
  std::string enhanced_code;
  std::string message;  // cleaned reply text
  std::vector<std::string> warnings;
  std::vector<std::string> transcript;  // when log_transcripts is on
  MailHostReach reach = MailHostReach::no_answer;
  // A TCP connection to some MX host succeeded within
  // outbound_health.known_working_for when the result was made.
  bool port25_known_working = false;
};

// The warning on results while outbound port 25 seems blocked.
inline constexpr const char* kPort25BlockedWarning =
    "outbound SMTP (port 25) seems blocked from this server";

// Resolves an MX host name to addresses (the DnsResolver in production).
using HostResolver =
    std::function<void(const std::string& host, std::function<void(AddressAnswer)> done)>;

class SmtpProber {
 public:
  SmtpProber(asio::io_context& io, HostResolver resolve_host, SmtpOptions options);
  ~SmtpProber();
  SmtpProber(const SmtpProber&) = delete;
  SmtpProber& operator=(const SmtpProber&) = delete;

  // `done` runs on the io_context thread exactly once (also on shutdown).
  void probe(ProbeRequest request, std::function<void(ProbeResult)> done);
  void set_options(SmtpOptions options);
  // Restores a catch-all answer learnt before (e.g. persisted across a
  // restart); any thread. Probes of `domain` then skip the catch-all probe.
  void remember_catch_all(std::string domain, bool catch_all, std::chrono::milliseconds ttl);
  // Restores an open circuit breaker learnt before (persisted across a
  // restart) for `remaining`; any thread. Probes to `host` fail fast until then.
  void restore_breaker(std::string host, std::chrono::milliseconds remaining);
  // Closes every session politely (QUIT) and fails pending probes.
  void shutdown();

  struct MxStats {
    std::string host;
    int sessions_open = 0;
    int queued = 0;
    std::uint64_t probes = 0;
    std::uint64_t timeouts = 0;
    std::uint64_t errors = 0;
    bool breaker_open = false;
    // When the open breaker closes (wall clock, so it can be persisted).
    std::chrono::system_clock::time_point breaker_open_until{};
  };
  std::vector<MxStats> stats() const;

  // Whether outbound port 25 seems blocked (and how often it has been) and
  // when a connection last succeeded; any thread.
  using OutboundState = OutboundSmtpState;
  OutboundState outbound_state() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mailsentry
