// Opening sessions on its own: the policy, the reach of a failed opening,
// the port 25 health it feeds, source rotation, and the SessionOpener
// against a fake resolver and a scripted server on loopback.
#include "net/session_opener.hpp"

#include <gtest/gtest.h>

#include <asio/io_context.hpp>
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "scripted_smtp_fixture.hpp"

namespace mailsentry {
namespace {

using namespace std::chrono_literals;
using asio::ip::make_address;

TEST(SessionOpening, PolicySortsAddresses) {
  AddressPolicy policy;  // private networks refused by default
  const AllowedAddresses sorted =
      apply_policy({make_address("127.0.0.2"), make_address("93.184.216.34")}, policy);
  EXPECT_EQ(sorted.allowed.size() + sorted.refusals.size(), 2u);
  EXPECT_EQ(sorted.refusals.size(), 1u);  // loopback
  policy.allow_private_networks = true;
  EXPECT_EQ(apply_policy({make_address("127.0.0.2")}, policy).allowed.size(), 1u);
}

TEST(SessionOpening, UnresolvedReach) {
  EXPECT_EQ(unresolved_reach(DnsStatus::no_such_domain), MailHostReach::no_address);
  EXPECT_EQ(unresolved_reach(DnsStatus::no_data), MailHostReach::no_address);
  EXPECT_EQ(unresolved_reach(DnsStatus::ok), MailHostReach::no_address);  // ok without addresses
  EXPECT_EQ(unresolved_reach(DnsStatus::inconclusive), MailHostReach::no_answer);
}

TEST(SessionOpening, ConnectOutcomeForThePort25Health) {
  EXPECT_EQ(connect_outcome(TcpConnect::connected), ConnectOutcome::succeeded);
  EXPECT_EQ(connect_outcome(TcpConnect::timed_out), ConnectOutcome::timed_out);
  EXPECT_EQ(connect_outcome(TcpConnect::refused), ConnectOutcome::refused);
  EXPECT_EQ(connect_outcome(TcpConnect::unreachable), ConnectOutcome::refused);
  EXPECT_FALSE(connect_outcome(TcpConnect::not_attempted));
  EXPECT_FALSE(connect_outcome(TcpConnect::failed));
}

OpenResult opened(SessionFailure failure, TcpConnect tcp, bool greeted = false) {
  OpenResult result;
  result.failure = failure;
  result.tcp = tcp;
  result.greeted = greeted;
  return result;
}

TEST(SessionOpening, ReachOfAnOpening) {
  using F = SessionFailure;
  using T = TcpConnect;
  EXPECT_EQ(opening_reach(opened(F::none, T::connected), true, false), MailHostReach::answered);
  EXPECT_EQ(opening_reach(opened(F::refused_greeting, T::connected, true), true, true),
            MailHostReach::answered);
  EXPECT_EQ(opening_reach(opened(F::malformed_reply, T::connected), true, false),
            MailHostReach::refused);  // something listens, not a mail server
  EXPECT_EQ(opening_reach(opened(F::timeout, T::connected), true, true), MailHostReach::no_answer);
  EXPECT_EQ(opening_reach(opened(F::connection_error, T::refused), true, false),
            MailHostReach::refused);
  EXPECT_EQ(opening_reach(opened(F::connection_error, T::refused), false, false),
            MailHostReach::no_answer);  // an earlier address did something else
  EXPECT_EQ(opening_reach(opened(F::connection_error, T::refused), true, true),
            MailHostReach::port25_blocked);
  EXPECT_EQ(opening_reach(opened(F::timeout, T::timed_out), true, true),
            MailHostReach::port25_blocked);
  EXPECT_EQ(opening_reach(opened(F::connection_error, T::failed), true, true),
            MailHostReach::no_answer);
}

TEST(SessionOpening, SessionConfigFromTheOptions) {
  SmtpOptions options;
  options.helo_name = "probe.test";
  options.mail_from = "verify@probe.test";
  options.starttls = StartTlsMode::required;
  options.log_transcripts = true;
  const SessionConfig config = session_config("mx.a.test", options);
  EXPECT_EQ(config.server_name, "mx.a.test");
  EXPECT_EQ(config.helo_name, "probe.test");
  EXPECT_EQ(config.mail_from, "verify@probe.test");
  EXPECT_TRUE(config.try_starttls);
  EXPECT_TRUE(config.require_starttls);
  EXPECT_TRUE(config.log_transcript);
  options.starttls = StartTlsMode::off;
  EXPECT_FALSE(session_config("mx.a.test", options).try_starttls);
}

TEST(SourceRotation, InTurnAndOfTheTargetsFamily) {
  SourceRotation rotation;
  const std::vector<asio::ip::address> sources = {
      make_address("192.0.2.1"), make_address("2001:db8::1"), make_address("192.0.2.2")};
  const auto v4 = make_address("198.51.100.1");
  const auto v6 = make_address("2001:db8::99");
  EXPECT_EQ(rotation.next(v4, sources), sources[0]);
  EXPECT_EQ(rotation.next(v4, sources), sources[2]);
  EXPECT_EQ(rotation.next(v6, sources), sources[1]);
  EXPECT_FALSE(rotation.next(v4, {make_address("2001:db8::1")}));
  EXPECT_FALSE(rotation.next(v4, {}));
}

class SessionOpenerTest : public ::testing::Test {
 protected:
  SessionOpenerTest() {
    options.address_policy.allow_private_networks = true;
    options.log_transcripts = true;
  }
  ~SessionOpenerTest() override {
    if (opener) opener->shutdown();
    io.restart();
    io.run_for(200ms);
    if (server) server->stop();
  }

  void make_opener() {
    opener = std::make_shared<SessionOpener>(
        io,
        [this](const std::string& host, std::function<void(AddressAnswer)> done) {
          AddressAnswer answer;
          const auto found = dns.find(host);
          if (found == dns.end()) {
            answer.status = DnsStatus::no_such_domain;
            answer.error = "NXDOMAIN";
          } else {
            answer.status = DnsStatus::ok;
            for (const std::string& address : found->second)
              answer.addresses.push_back(make_address(address));
          }
          done(answer);
        },
        options, health);
  }

  SessionLease open(const std::string& host) {
    std::optional<SessionLease> lease;
    opener->open(host, 1500ms, [&](SessionLease answer) { lease = std::move(answer); });
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!lease && std::chrono::steady_clock::now() < deadline) {
      io.restart();
      io.run_one_for(50ms);
    }
    EXPECT_TRUE(lease) << "no answer for " << host;
    return lease ? std::move(*lease) : SessionLease{};
  }

  bool start_server() {
    server = std::make_unique<scripted_smtp::ScriptedSmtpServer>();
    const std::string error = server->start("127.0.0.2", "{}");
    if (!error.empty()) ADD_FAILURE() << error;
    options.port = server->port();
    return error.empty();
  }

  asio::io_context io;
  SmtpOptions options;
  std::map<std::string, std::vector<std::string>> dns;
  std::shared_ptr<OutboundSmtpHealth> health = std::make_shared<OutboundSmtpHealth>();
  std::shared_ptr<SessionOpener> opener;
  std::unique_ptr<scripted_smtp::ScriptedSmtpServer> server;
};

TEST_F(SessionOpenerTest, UnresolvableHostHasNoAddress) {
  make_opener();
  const SessionLease lease = open("mx.nowhere.test");
  EXPECT_EQ(lease.problem, LeaseProblem::resolution_failed);
  EXPECT_EQ(lease.reach, MailHostReach::no_address);
  EXPECT_EQ(lease.warnings,
            std::vector<std::string>{"no address for MX host mx.nowhere.test: NXDOMAIN"});
}

TEST_F(SessionOpenerTest, PolicyRefusesEveryAddress) {
  options.address_policy.allow_private_networks = false;
  dns["mx.private.test"] = {"127.0.0.2", "10.0.0.1"};
  make_opener();
  const SessionLease lease = open("mx.private.test");
  EXPECT_EQ(lease.problem, LeaseProblem::policy_refused);
  EXPECT_EQ(lease.reach, MailHostReach::off_limits);
  EXPECT_EQ(lease.warnings.size(), 2u);
}

TEST_F(SessionOpenerTest, HeldBackWhilePort25IsBlocked) {
  const auto now = OutboundSmtpHealth::Clock::now();
  for (const char* host : {"x1", "x2", "x3"}) health->record(host, ConnectOutcome::refused, now);
  ASSERT_TRUE(health->blocked());  // the blocking failure counts as this interval's attempt
  dns["mx.a.test"] = {"127.0.0.2"};
  make_opener();
  const SessionLease lease = open("mx.a.test");
  EXPECT_EQ(lease.problem, LeaseProblem::port25_blocked);
  EXPECT_EQ(lease.reach, MailHostReach::port25_blocked);
  EXPECT_EQ(lease.warnings, std::vector<std::string>{kPort25BlockedWarning});
}

TEST_F(SessionOpenerTest, RefusedAddressThenTheNextOneOpens) {
  ASSERT_TRUE(start_server());
  dns["mx.a.test"] = {"127.0.0.3", "127.0.0.2"};  // nothing listens on 127.0.0.3
  make_opener();
  const SessionLease lease = open("mx.a.test");
  ASSERT_EQ(lease.problem, LeaseProblem::none);
  ASSERT_TRUE(lease.session);
  EXPECT_TRUE(lease.session->usable());
  EXPECT_FALSE(lease.reused);
  ASSERT_EQ(lease.warnings.size(), 1u);
  EXPECT_EQ(lease.warnings[0].rfind("mx.a.test [127.0.0.3", 0), 0u) << lease.warnings[0];
  EXPECT_FALSE(lease.transcript.empty());
  EXPECT_TRUE(health->known_working(OutboundSmtpHealth::Clock::now()));
  lease.session->close();
}

TEST_F(SessionOpenerTest, EveryAddressRefusedIsRefused) {
  ASSERT_TRUE(start_server());
  dns["mx.a.test"] = {"127.0.0.3", "127.0.0.4"};
  make_opener();
  const SessionLease lease = open("mx.a.test");
  EXPECT_EQ(lease.problem, LeaseProblem::session_failed);
  EXPECT_EQ(lease.open.failure, SessionFailure::connection_error);
  EXPECT_EQ(lease.reach, MailHostReach::refused);
  EXPECT_EQ(lease.warnings.size(), 1u);  // the first address; the last one says why in `open`
}

TEST_F(SessionOpenerTest, AfterShutdownNothingOpens) {
  ASSERT_TRUE(start_server());
  dns["mx.a.test"] = {"127.0.0.2"};
  make_opener();
  opener->shutdown();
  const SessionLease lease = open("mx.a.test");
  EXPECT_EQ(lease.problem, LeaseProblem::shut_down);
  EXPECT_EQ(lease.reach, MailHostReach::no_answer);
  EXPECT_FALSE(lease.session);
  EXPECT_TRUE(server->client_lines().empty());
}

}  // namespace
}  // namespace mailsentry
