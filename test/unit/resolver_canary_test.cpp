// ResolverCanary against DNS servers on loopback only: a dnsmasq that serves
// an MX for the canary, one that says NXDOMAIN for every name (a resolver
// that cannot see the Internet), and stub servers for failures.
#include "net/resolver_canary.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "dnsmasq_fixture.hpp"
#include "net/dns_resolver.hpp"

namespace mailsentry {
namespace {

using namespace std::chrono_literals;
using test_support::DnsmasqServer;
using test_support::StubDnsServer;

// Authoritative for .test: canary.test has an MX, other names are NXDOMAIN.
std::vector<std::string> seeing_zone() {
  return {"--local=/test/", "--mx-host=canary.test,mx.canary.test,10",
          "--mx-host=second.test,mx.second.test,10"};
}

// NXDOMAIN for every name, the canaries too: a resolver cut off from the Internet.
std::vector<std::string> blind_zone() { return {"--address=/#/"}; }

DnsOptions dns_options(const std::string& ip, std::uint16_t port) {
  DnsOptions options;
  options.servers = {DnsServerAddress{ip, port}};
  options.timeout = 500ms;
  options.tries = 1;
  return options;
}

ResolverCanaryOptions canary_options(std::vector<std::string> domains) {
  ResolverCanaryOptions options;
  options.domains = std::move(domains);
  return options;
}

// The answers of when_known() calls.
struct Answers {
  std::vector<bool> values;
  std::function<void(bool)> callback() {
    return [this](bool sees_internet) { values.push_back(sees_internet); };
  }
};

class ResolverCanaryTest : public ::testing::Test {
 protected:
  void start(DnsmasqServer& server) {
    std::string error;
    ASSERT_TRUE(server.start(&error)) << error;
    resolver_ = std::make_unique<DnsResolver>(io_, dns_options(server.ip(), server.port()));
  }

  // Runs the io_context until `answers` holds `count` values (or 5 s pass),
  // then a little longer so that a callback run twice would show.
  void run_until(const Answers& answers, std::size_t count) {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (answers.values.size() < count && std::chrono::steady_clock::now() < deadline) {
      io_.restart();
      io_.run_one_for(20ms);
    }
    io_.restart();
    io_.run_for(50ms);
  }

  // One when_known() call and its answer.
  bool ask(ResolverCanary& canary) {
    Answers answers;
    canary.when_known(answers.callback());
    run_until(answers, 1);
    EXPECT_EQ(answers.values.size(), 1u);
    return !answers.values.empty() && answers.values.front();
  }

  asio::io_context io_;
  std::unique_ptr<DnsResolver> resolver_;
};

TEST_F(ResolverCanaryTest, SeesTheInternetWhenACanaryDomainHasMailHosts) {
  DnsmasqServer dns(seeing_zone());
  start(dns);
  ResolverCanary canary(io_, *resolver_, canary_options({"missing.test", "canary.test"}));
  EXPECT_FALSE(canary.state().known);
  const auto before = std::chrono::system_clock::now();
  EXPECT_TRUE(ask(canary));
  const ResolverCanary::State state = canary.state();
  EXPECT_TRUE(state.known);
  EXPECT_TRUE(state.sees_internet);
  EXPECT_EQ(state.checks, 1u);
  EXPECT_EQ(state.episodes, 0u);
  EXPECT_GE(state.last_check, before);
  EXPECT_LE(state.last_check, std::chrono::system_clock::now());
}

TEST_F(ResolverCanaryTest, BlindWhenEveryCanaryDomainIsNxdomain) {
  DnsmasqServer dns(blind_zone());
  start(dns);
  // The product's list, asked of the loopback dnsmasq only.
  ResolverCanary canary(io_, *resolver_, canary_options(default_canary_domains()));
  EXPECT_FALSE(ask(canary));
  const ResolverCanary::State state = canary.state();
  EXPECT_TRUE(state.known);
  EXPECT_FALSE(state.sees_internet);
  EXPECT_EQ(state.episodes, 1u);
  EXPECT_EQ(state.checks, 1u);
  for (const std::string& domain : default_canary_domains())
    EXPECT_EQ(dns.wait_for_query_count("MX", domain, 1), 1) << domain;
}

TEST_F(ResolverCanaryTest, BlindWhenTheResolverFails) {
  StubDnsServer stub(StubDnsServer::Behaviour::reply_rcode, /*SERVFAIL*/ 2);
  std::string error;
  ASSERT_TRUE(stub.start(&error)) << error;
  resolver_ = std::make_unique<DnsResolver>(io_, dns_options(stub.ip(), stub.port()));
  ResolverCanary canary(io_, *resolver_, canary_options({"canary.test"}));
  EXPECT_FALSE(ask(canary));
  EXPECT_EQ(canary.state().episodes, 1u);
}

TEST_F(ResolverCanaryTest, FreshResultAnswersWithoutAQueryAndNeverInline) {
  DnsmasqServer dns(seeing_zone());
  start(dns);
  ResolverCanary canary(io_, *resolver_, canary_options({"canary.test"}));
  ASSERT_TRUE(ask(canary));
  Answers answers;
  canary.when_known(answers.callback());
  EXPECT_TRUE(answers.values.empty());  // posted, not run inside the call
  run_until(answers, 1);
  EXPECT_EQ(answers.values, std::vector<bool>{true});
  EXPECT_EQ(canary.state().checks, 1u);
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(dns.query_count("MX", "canary.test"), 1);
}

TEST_F(ResolverCanaryTest, ChecksAgainAfterTheIntervalBypassingTheCache) {
  DnsmasqServer dns(blind_zone());
  start(dns);
  ResolverCanaryOptions options = canary_options({"canary.test"});
  options.recheck_interval = 300ms;
  ResolverCanary canary(io_, *resolver_, options);
  EXPECT_FALSE(ask(canary));
  EXPECT_FALSE(ask(canary));  // fresh: the same result
  EXPECT_EQ(canary.state().checks, 1u);
  std::this_thread::sleep_for(350ms);
  EXPECT_FALSE(ask(canary));
  const ResolverCanary::State state = canary.state();
  EXPECT_EQ(state.checks, 2u);
  EXPECT_EQ(state.episodes, 1u);  // still the same episode
  // The resolver had the NXDOMAIN cached (negative TTL 300 s): the check asked anyway.
  EXPECT_EQ(dns.wait_for_query_count("MX", "canary.test", 2), 2);
}

TEST_F(ResolverCanaryTest, PiledUpDeadFindingsTriggerACheck) {
  DnsmasqServer dns(seeing_zone());
  start(dns);
  ResolverCanaryOptions options = canary_options({"canary.test"});
  options.dead_findings_before_recheck = 3;
  options.pileup_recheck_gap = 0ms;
  ResolverCanary canary(io_, *resolver_, options);
  ASSERT_TRUE(ask(canary));
  canary.note_dead_finding();
  canary.note_dead_finding();
  EXPECT_TRUE(ask(canary));
  EXPECT_EQ(canary.state().checks, 1u);  // two findings: below the threshold
  canary.note_dead_finding();
  EXPECT_TRUE(ask(canary));
  EXPECT_EQ(canary.state().checks, 2u);
  EXPECT_EQ(dns.wait_for_query_count("MX", "canary.test", 2), 2);
  // Counted afresh from that check on.
  canary.note_dead_finding();
  EXPECT_TRUE(ask(canary));
  EXPECT_EQ(canary.state().checks, 2u);
}

TEST_F(ResolverCanaryTest, PiledUpFindingsRecheckAtMostOncePerGap) {
  DnsmasqServer dns(seeing_zone());
  start(dns);
  ResolverCanaryOptions options = canary_options({"canary.test"});
  options.dead_findings_before_recheck = 2;
  options.pileup_recheck_gap = 300ms;
  ResolverCanary canary(io_, *resolver_, options);
  ASSERT_TRUE(ask(canary));
  for (int i = 0; i < 10; ++i) canary.note_dead_finding();
  EXPECT_TRUE(ask(canary));
  EXPECT_EQ(canary.state().checks, 1u);  // piled up, but the last check is recent
  std::this_thread::sleep_for(350ms);
  EXPECT_TRUE(ask(canary));
  EXPECT_EQ(canary.state().checks, 2u);
}

TEST_F(ResolverCanaryTest, ConcurrentCallersJoinOneCheck) {
  DnsmasqServer dns(seeing_zone());
  start(dns);
  ResolverCanary canary(io_, *resolver_, canary_options({"canary.test", "second.test"}));
  Answers answers;
  for (int i = 0; i < 10; ++i) canary.when_known(answers.callback());
  run_until(answers, 10);
  EXPECT_EQ(answers.values, std::vector<bool>(10, true));
  EXPECT_EQ(canary.state().checks, 1u);
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(dns.query_count("MX", "canary.test"), 1);
  EXPECT_EQ(dns.query_count("MX", "second.test"), 1);
}

TEST_F(ResolverCanaryTest, EmptyListTurnsTheCheckOff) {
  DnsmasqServer dns(blind_zone());
  start(dns);
  ResolverCanary canary(io_, *resolver_, ResolverCanaryOptions{});
  Answers answers;
  canary.when_known(answers.callback());
  EXPECT_TRUE(answers.values.empty());  // posted
  run_until(answers, 1);
  EXPECT_EQ(answers.values, std::vector<bool>{true});
  const ResolverCanary::State state = canary.state();
  EXPECT_EQ(state.checks, 0u);
  EXPECT_FALSE(state.known);
}

TEST_F(ResolverCanaryTest, NewDomainsCheckAgainAndEachBlindSpellIsAnEpisode) {
  DnsmasqServer dns(seeing_zone());
  start(dns);
  ResolverCanary canary(io_, *resolver_, canary_options({"missing.test"}));
  EXPECT_FALSE(ask(canary));
  EXPECT_EQ(canary.state().episodes, 1u);
  canary.set_options(canary_options({"canary.test"}));
  EXPECT_TRUE(ask(canary));
  canary.set_options(canary_options({"missing.test"}));
  EXPECT_FALSE(ask(canary));
  const ResolverCanary::State state = canary.state();
  EXPECT_EQ(state.episodes, 2u);
  EXPECT_EQ(state.checks, 3u);
}

TEST_F(ResolverCanaryTest, ACheckCutShortByAResolverReconfigureIsAskedAgain) {
  StubDnsServer silent(StubDnsServer::Behaviour::stay_silent);
  std::string error;
  ASSERT_TRUE(silent.start(&error)) << error;
  DnsmasqServer dns(seeing_zone());
  ASSERT_TRUE(dns.start(&error)) << error;
  DnsOptions slow = dns_options(silent.ip(), silent.port());
  slow.timeout = 5000ms;
  resolver_ = std::make_unique<DnsResolver>(io_, slow);
  ResolverCanary canary(io_, *resolver_, canary_options({"canary.test"}));
  Answers answers;
  canary.when_known(answers.callback());
  io_.restart();
  io_.run_for(100ms);  // the query is out, unanswered
  ASSERT_TRUE(answers.values.empty());
  resolver_->reconfigure(dns_options(dns.ip(), dns.port()));  // cancels it
  run_until(answers, 1);
  EXPECT_EQ(answers.values, std::vector<bool>{true});
  EXPECT_EQ(canary.state().episodes, 0u);
}

TEST_F(ResolverCanaryTest, DestroyedWithACheckInFlightCallsNobody) {
  StubDnsServer silent(StubDnsServer::Behaviour::stay_silent);
  std::string error;
  ASSERT_TRUE(silent.start(&error)) << error;
  resolver_ = std::make_unique<DnsResolver>(io_, dns_options(silent.ip(), silent.port()));
  auto canary = std::make_unique<ResolverCanary>(io_, *resolver_, canary_options({"canary.test"}));
  Answers answers;
  canary->when_known(answers.callback());
  io_.restart();
  io_.run_for(50ms);
  canary.reset();
  io_.restart();
  io_.run_for(700ms);  // the lookup times out meanwhile
  EXPECT_TRUE(answers.values.empty());
}

}  // namespace
}  // namespace mailsentry
