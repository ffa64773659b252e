#include "net/session_opener.hpp"

#include <algorithm>
#include <asio/post.hpp>
#include <utility>

namespace mailsentry {

namespace {

std::shared_ptr<asio::ssl::context> make_probe_tls_context() {
  auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  // A probe sends no message: certificates are not verified (RFC 7435
  // opportunistic security), the handshake only hides the envelope.
  context->set_verify_mode(asio::ssl::verify_none);
  return context;
}

}  // namespace

AllowedAddresses apply_policy(const std::vector<asio::ip::address>& addresses,
                              const AddressPolicy& policy) {
  AllowedAddresses sorted;
  for (const asio::ip::address& address : addresses) {
    std::string refusal = policy.check(address);
    if (refusal.empty()) {
      sorted.allowed.push_back(address);
    } else {
      sorted.refusals.push_back(std::move(refusal));
    }
  }
  return sorted;
}

MailHostReach unresolved_reach(DnsStatus status) {
  return status == DnsStatus::inconclusive ? MailHostReach::no_answer : MailHostReach::no_address;
}

std::optional<ConnectOutcome> connect_outcome(TcpConnect tcp) {
  if (tcp == TcpConnect::connected) return ConnectOutcome::succeeded;
  if (tcp == TcpConnect::timed_out) return ConnectOutcome::timed_out;
  if (tcp == TcpConnect::refused || tcp == TcpConnect::unreachable) return ConnectOutcome::refused;
  return std::nullopt;  // not attempted, or failed for another reason
}

MailHostReach opening_reach(const OpenResult& result, bool every_connect_refused,
                            bool port25_blocked) {
  if (result.failure == SessionFailure::none || result.greeted) return MailHostReach::answered;
  if (result.tcp == TcpConnect::connected) {
    // Something listens; garbage instead of a greeting is not a mail server.
    return result.failure == SessionFailure::malformed_reply ? MailHostReach::refused
                                                             : MailHostReach::no_answer;
  }
  if (connect_outcome(result.tcp) && port25_blocked) return MailHostReach::port25_blocked;
  if (result.tcp == TcpConnect::refused && every_connect_refused) return MailHostReach::refused;
  return MailHostReach::no_answer;
}

SessionConfig session_config(const std::string& host, const SmtpOptions& options) {
  SessionConfig config;
  config.server_name = host;
  config.helo_name = options.helo_name;
  config.mail_from = options.mail_from;
  config.try_starttls = options.starttls != StartTlsMode::off;
  config.require_starttls = options.starttls == StartTlsMode::required;
  config.log_transcript = options.log_transcripts;
  return config;
}

std::optional<asio::ip::address> SourceRotation::next(
    const asio::ip::address& target, const std::vector<asio::ip::address>& sources) {
  for (std::size_t tried = 0; tried < sources.size(); ++tried) {
    const asio::ip::address& candidate = sources[index_++ % sources.size()];
    if (candidate.is_v4() == target.is_v4()) return candidate;
  }
  return std::nullopt;
}

SessionOpener::SessionOpener(asio::io_context& io, HostResolver resolve_host, SmtpOptions options,
                             std::shared_ptr<OutboundSmtpHealth> outbound_health)
    : io_(io),
      resolve_host_(std::move(resolve_host)),
      options_(std::move(options)),
      tls_context_(make_probe_tls_context()),
      outbound_health_(std::move(outbound_health)) {}

// The first answer of the resolver goes on from the loop: it may answer
// from inside resolve_host_(), or twice, or throw.
void SessionOpener::open(const std::string& host, std::chrono::milliseconds step_timeout,
                         Done done) {
  std::weak_ptr<SessionOpener> weak = shared_from_this();
  auto pending = std::make_shared<Opening>();
  pending->host = host;
  pending->step_timeout = step_timeout;
  pending->done = std::move(done);
  auto go_on = [weak, pending](AddressAnswer answer) {
    const auto self = weak.lock();
    if (!self || !pending->done) return;  // gone, or answered twice
    asio::post(self->io_,
               [weak, opening = std::move(*pending), answer = std::move(answer)]() mutable {
                 if (const auto opener = weak.lock())
                   opener->on_resolved(std::move(opening), std::move(answer));
               });
    pending->done = nullptr;
  };
  try {
    resolve_host_(host, go_on);
  } catch (...) {
    AddressAnswer failed;
    failed.error = "resolver failed";
    go_on(std::move(failed));
  }
}

void SessionOpener::fail(Opening opening, LeaseProblem problem, MailHostReach reach) {
  SessionLease lease;
  lease.problem = problem;
  lease.reach = reach;
  lease.warnings = std::move(opening.warnings);
  opening.done(std::move(lease));
}

void SessionOpener::on_resolved(Opening opening, AddressAnswer answer) {
  if (shut_down_) {
    opening.warnings.clear();
    fail(std::move(opening), LeaseProblem::shut_down, MailHostReach::no_answer);
    return;
  }
  if (answer.status != DnsStatus::ok || answer.addresses.empty()) {
    opening.warnings.push_back("no address for MX host " + opening.host +
                               (answer.error.empty() ? "" : ": " + answer.error));
    fail(std::move(opening), LeaseProblem::resolution_failed, unresolved_reach(answer.status));
    return;
  }
  AllowedAddresses sorted = apply_policy(answer.addresses, options_.address_policy);
  opening.warnings = std::move(sorted.refusals);
  if (sorted.allowed.empty()) {
    fail(std::move(opening), LeaseProblem::policy_refused, MailHostReach::off_limits);
    return;
  }
  // Resolution and policy come first: what they say holds whatever port 25 does.
  if (!outbound_health_->allow_new_connection(OutboundSmtpHealth::Clock::now())) {
    opening.warnings.emplace_back(kPort25BlockedWarning);
    fail(std::move(opening), LeaseProblem::port25_blocked, MailHostReach::port25_blocked);
    return;
  }
  opening.addresses = std::move(sorted.allowed);
  connect_to(std::move(opening));
}

void SessionOpener::connect_to(Opening opening) {
  const asio::ip::address address = opening.addresses[opening.index];
  auto session = SmtpSession::create(io_, tls_context_, session_config(opening.host, options_));
  const std::chrono::milliseconds step_timeout = opening.step_timeout;
  std::weak_ptr<SessionOpener> weak = shared_from_this();
  std::weak_ptr<SmtpSession> weak_session = session;
  opening_.push_back(weak_session);
  session->open(asio::ip::tcp::endpoint(address, options_.port),
                sources_.next(address, options_.source_addresses), step_timeout,
                [weak, weak_session, opening = std::move(opening)](OpenResult result) mutable {
                  const auto self = weak.lock();
                  const auto session = weak_session.lock();
                  if (!self || !session) return;
                  self->on_connected(std::move(opening), session, std::move(result));
                });
}

void SessionOpener::on_connected(Opening opening, const std::shared_ptr<SmtpSession>& session,
                                 OpenResult result) {
  opening_.erase(std::remove_if(opening_.begin(), opening_.end(),
                                [&](const std::weak_ptr<SmtpSession>& entry) {
                                  const auto locked = entry.lock();
                                  return !locked || locked == session;
                                }),
                 opening_.end());
  std::vector<std::string> lines = session->take_transcript();
  opening.transcript.insert(opening.transcript.end(), lines.begin(), lines.end());
  SessionLease lease;
  if (shut_down_) {
    lease.session = session;  // the caller QUITs it
    lease.problem = LeaseProblem::shut_down;
    lease.reach = MailHostReach::no_answer;
    opening.done(std::move(lease));
    return;
  }
  const auto now = OutboundSmtpHealth::Clock::now();
  if (const std::optional<ConnectOutcome> outcome = connect_outcome(result.tcp))
    outbound_health_->record(opening.host, *outcome, now);
  const MailHostReach reach =
      opening_reach(result, opening.every_connect_refused, outbound_health_->blocked());
  if (result.failure == SessionFailure::none) {
    lease.session = session;
    lease.warnings = std::move(opening.warnings);
    lease.transcript = std::move(opening.transcript);
    opening.done(std::move(lease));
    return;
  }
  // Refused or reset: the host's next address, within the same attempt.
  if (result.failure == SessionFailure::connection_error &&
      opening.index + 1 < opening.addresses.size()) {
    opening.warnings.push_back(opening.host + " [" + session->peer() + "]: " + result.detail);
    opening.every_connect_refused =
        opening.every_connect_refused && result.tcp == TcpConnect::refused;
    ++opening.index;
    connect_to(std::move(opening));
    return;
  }
  lease.problem = LeaseProblem::session_failed;
  lease.reach = reach;
  lease.open = std::move(result);
  lease.warnings = std::move(opening.warnings);
  if (reach == MailHostReach::port25_blocked) lease.warnings.emplace_back(kPort25BlockedWarning);
  lease.transcript = std::move(opening.transcript);
  opening.done(std::move(lease));
}

void SessionOpener::shutdown() {
  shut_down_ = true;
  close_opening();
}

void SessionOpener::close_opening() {
  std::vector<std::weak_ptr<SmtpSession>> opening;
  opening.swap(opening_);
  for (const auto& weak : opening) {
    if (const auto session = weak.lock()) session->close();  // ends with aborted
  }
}

}  // namespace mailsentry
