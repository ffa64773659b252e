// NetworkEngine end to end on loopback: dnsmasq for DNS, the scripted SMTP
// server for probes, the RDAP responder for domain ages. Covers facts restored
// after a restart and the sharing of identical requests in flight.
#include "net/network_engine.hpp"

#include <gtest/gtest.h>
#include <poll.h>

#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "dnsmasq_fixture.hpp"
#include "rdap_whois_fixture.hpp"
#include "scripted_smtp_fixture.hpp"

namespace mailsentry {
namespace {

using namespace std::chrono_literals;
using scripted_smtp::ScriptedSmtpServer;
using test_support::DnsmasqServer;
using Completion = std::pair<std::uint64_t, NetworkFacts>;

constexpr const char* kSmtpIp = "127.0.0.2";

std::vector<std::string> zone_records() {
  return {
      "--local=/restore.test/",  // authoritative: unknown names are NXDOMAIN
      "--local=/tls/",
      "--host-record=mx.restore.test,127.0.0.2",
      "--mx-host=known.restore.test,mx.restore.test,10",
      "--mx-host=other.restore.test,mx.restore.test,10",
      "--mx-host=noaddr.restore.test,gone.restore.test,10",  // the MX host has no address
      "--host-record=rdap.restore.test,127.0.0.1",
  };
}

NetworkRequest request_for(const std::string& address, Depth depth = Depth::standard,
                           bool mx_only = false) {
  NetworkRequest request;
  request.address = address;
  request.domain = address.substr(address.rfind('@') + 1);
  request.registrable_domain = request.domain;
  request.depth = depth;
  request.mx_only = mx_only;
  return request;
}

KnownDomainFacts::Mx mx_fact(std::optional<bool> found, std::vector<std::string> hosts,
                             std::chrono::milliseconds valid_for) {
  KnownDomainFacts::Mx mx;
  mx.mx_found = found;
  mx.mx_records = std::move(hosts);
  mx.valid_for = valid_for;
  return mx;
}

int days_since_epoch_today() {
  using namespace std::chrono;
  return static_cast<int>(duration_cast<hours>(system_clock::now().time_since_epoch()).count() /
                          24);
}

// DNS (and optionally SMTP) servers plus an engine pointed at them.
class EngineHarness {
 public:
  EngineHarness() {
    config.dns.servers = {DnsServerAddress{dnsmasq.ip(), 0}};
    config.dns.timeout = 1000ms;
    config.smtp.address_policy.allow_private_networks = true;
    config.smtp.log_transcripts = true;
    config.smtp.helo_name = "probe.mailsentry.test";
    config.smtp.mail_from = "verify@mailsentry.test";
    config.domain_age.address_policy.allow_private_networks = true;
    config.domain_age.whois_referral_server = "";
    config.domain_age.min_interval_per_registry = 0ms;
    config.network.domain_age = false;
  }

  // Returns "" or why the servers did not start.
  std::string start(const std::string& smtp_scenario = "") {
    std::string error;
    if (!dnsmasq.start(&error)) return error;
    config.dns.servers = {DnsServerAddress{dnsmasq.ip(), dnsmasq.port()}};
    if (smtp_scenario.empty()) return "";
    smtp = std::make_unique<ScriptedSmtpServer>();
    error = smtp->start(kSmtpIp, smtp_scenario);
    config.smtp.port = smtp->port();
    return error;
  }

  NetworkEngine& make_engine() {
    engine = std::make_unique<NetworkEngine>(config);
    return *engine;
  }

  // Collects completions until `count` arrived or `limit` passed.
  std::vector<Completion> wait_for(std::size_t count, std::chrono::seconds limit = 20s) {
    std::vector<Completion> all;
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (all.size() < count && std::chrono::steady_clock::now() < deadline) {
      pollfd readable{engine->completion_fd(), POLLIN, 0};
      poll(&readable, 1, 50);
      for (Completion& completion : engine->take_completions())
        all.push_back(std::move(completion));
    }
    EXPECT_EQ(all.size(), count) << "completions within " << limit.count() << " s";
    return all;
  }

  NetworkFacts verify(std::uint64_t tag, NetworkRequest request) {
    engine->submit(tag, std::move(request));
    std::vector<Completion> done = wait_for(1);
    if (done.empty()) return {};
    EXPECT_EQ(done.front().first, tag);
    return std::move(done.front().second);
  }

  // dnsmasq logs asynchronously: give it a moment before counting absences.
  int mx_queries_for(const std::string& domain) {
    std::this_thread::sleep_for(150ms);
    return dnsmasq.query_count("MX", domain);
  }

  int rcpts_to(const std::string& address) const {
    return static_cast<int>(smtp->client_lines("RCPT TO:<" + address + ">").size());
  }

  DnsmasqServer dnsmasq{zone_records()};
  std::unique_ptr<ScriptedSmtpServer> smtp;
  NetworkEngineConfig config;
  std::unique_ptr<NetworkEngine> engine;  // last: stopped before the servers
};

std::string warnings_of(const NetworkFacts& facts) {
  std::string all;
  for (const std::string& warning : facts.warnings) all += "\n  " + warning;
  return all;
}

void expect_same_facts(const NetworkFacts& a, const NetworkFacts& b) {
  EXPECT_EQ(a.mx_found, b.mx_found);
  EXPECT_EQ(a.mx_records, b.mx_records);
  EXPECT_EQ(a.smtp, b.smtp);
  EXPECT_EQ(a.smtp_code, b.smtp_code);
  EXPECT_EQ(a.smtp_message, b.smtp_message);
  EXPECT_EQ(a.mx_host, b.mx_host);
  EXPECT_EQ(a.catch_all, b.catch_all);
  EXPECT_EQ(a.warnings, b.warnings);
  EXPECT_EQ(a.smtp_transcript, b.smtp_transcript);
}

// ---------------------------------------------------------------- restore ---

TEST(NetworkEngineRestore, RestoredMxIsUsedWithoutAQuery) {
  EngineHarness harness;
  ASSERT_EQ(harness.start(R"({"recipients": {"alice@unknown.restore.test": [250, "2.1.5 OK"]}})"),
            "");
  NetworkEngine& engine = harness.make_engine();
  KnownDomainFacts known;
  known.domain = "unknown.restore.test";  // NXDOMAIN for dnsmasq
  known.mx = mx_fact(true, {"mx.restore.test"}, 1h);
  engine.restore({known});

  const NetworkFacts facts = harness.verify(1, request_for("alice@unknown.restore.test"));
  EXPECT_EQ(facts.mx_found, true) << warnings_of(facts);
  EXPECT_EQ(facts.mx_records, std::vector<std::string>{"mx.restore.test"});
  EXPECT_EQ(facts.smtp, SmtpOutcome::exists) << warnings_of(facts);
  EXPECT_EQ(harness.rcpts_to("alice@unknown.restore.test"), 1);
  EXPECT_EQ(harness.mx_queries_for("unknown.restore.test"), 0);

  // Without restored facts the same engine does ask (so the count above means something).
  const NetworkFacts other = harness.verify(2, request_for("bob@known.restore.test", Depth::quick));
  EXPECT_EQ(other.mx_records, std::vector<std::string>{"mx.restore.test"});
  EXPECT_EQ(harness.dnsmasq.wait_for_query_count("MX", "known.restore.test", 1), 1);
}

TEST(NetworkEngineRestore, RestoredNegativeMxIsUsedWithoutAQuery) {
  EngineHarness harness;
  ASSERT_EQ(harness.start(R"({"catch_all": true})"), "");
  NetworkEngine& engine = harness.make_engine();
  KnownDomainFacts known;
  known.domain = "known.restore.test";  // DNS says it has an MX; the restored fact wins
  known.mx = mx_fact(false, {}, 1h);
  engine.restore({known});

  const NetworkFacts facts = harness.verify(1, request_for("alice@known.restore.test"));
  EXPECT_EQ(facts.mx_found, false);
  EXPECT_TRUE(facts.mx_records.empty());
  EXPECT_EQ(facts.smtp, SmtpOutcome::not_attempted);
  EXPECT_EQ(harness.mx_queries_for("known.restore.test"), 0);
  EXPECT_TRUE(harness.smtp->connections().empty());
}

TEST(NetworkEngineRestore, RestoredCatchAllSkipsTheCatchAllRcpt) {
  EngineHarness harness;
  ASSERT_EQ(harness.start(R"({"catch_all": true})"), "");
  NetworkEngine& engine = harness.make_engine();
  KnownDomainFacts known;
  known.domain = "known.restore.test";
  known.catch_all = true;
  known.catch_all_valid_for = 1h;
  engine.restore({known});

  const NetworkFacts facts = harness.verify(1, request_for("alice@known.restore.test"));
  EXPECT_EQ(facts.catch_all, true) << warnings_of(facts);
  EXPECT_EQ(harness.rcpts_to("alice@known.restore.test"), 1);
  EXPECT_EQ(harness.smtp->client_lines("RCPT").size(), 1u);  // no random-address check

  // A domain not restored costs the extra RCPT (so the count above means something).
  const NetworkFacts other = harness.verify(2, request_for("bob@other.restore.test"));
  EXPECT_EQ(other.catch_all, true) << warnings_of(other);
  EXPECT_EQ(harness.smtp->client_lines("RCPT").size(), 3u);
}

TEST(NetworkEngineRestore, ExpiredRestoredFactsAreIgnored) {
  EngineHarness harness;
  ASSERT_EQ(harness.start(R"({"catch_all": true})"), "");
  NetworkEngine& engine = harness.make_engine();
  KnownDomainFacts expired;  // stored after its validity had already run out
  expired.domain = "known.restore.test";
  expired.mx = mx_fact(false, {}, -1000ms);
  expired.catch_all = true;
  expired.catch_all_valid_for = 0ms;
  KnownDomainFacts short_lived;  // valid when restored, not when used
  short_lived.domain = "other.restore.test";
  short_lived.mx = mx_fact(true, {"stale.restore.test"}, 300ms);
  short_lived.catch_all = false;
  short_lived.catch_all_valid_for = 300ms;
  engine.restore({expired, short_lived});
  std::this_thread::sleep_for(500ms);

  const NetworkFacts known = harness.verify(1, request_for("alice@known.restore.test"));
  EXPECT_EQ(known.mx_found, true) << warnings_of(known);
  EXPECT_EQ(known.mx_records, std::vector<std::string>{"mx.restore.test"});
  EXPECT_EQ(known.catch_all, true);
  EXPECT_EQ(harness.dnsmasq.wait_for_query_count("MX", "known.restore.test", 1), 1);
  EXPECT_EQ(harness.smtp->client_lines("RCPT").size(), 2u);  // the catch-all check ran

  const NetworkFacts other = harness.verify(2, request_for("bob@other.restore.test"));
  EXPECT_EQ(other.mx_records, std::vector<std::string>{"mx.restore.test"}) << warnings_of(other);
  EXPECT_EQ(other.catch_all, true);  // the server's answer, not the expired "false"
  EXPECT_EQ(harness.dnsmasq.wait_for_query_count("MX", "other.restore.test", 1), 1);
  EXPECT_EQ(harness.smtp->client_lines("RCPT").size(), 4u);
}

// Domain ages need the RDAP responder as well.
class NetworkEngineRestoreAge : public testing::RdapWhoisResponderTest {
 protected:
  static nlohmann::json rdap_domain(const std::string& registered) {
    return {{"status", 200},
            {"body",
             {{"objectClassName", "domain"},
              {"events", nlohmann::json::array(
                             {{{"eventAction", "registration"}, {"eventDate", registered}}})}}}};
  }

  nlohmann::json fixtures() const override {
    return {{"rdap",
             {{"aged.tls", rdap_domain("2019-03-04T00:00:00Z")},
              {"fresh.tls", rdap_domain("2001-01-01T00:00:00Z")},
              {"stale.tls", rdap_domain("2005-06-20T00:00:00Z")}}}};
  }

  void SetUp() override {
    RdapWhoisResponderTest::SetUp();
    if (HasFatalFailure()) return;
    nlohmann::json bootstrap = {
        {"version", "1.0"},
        {"services",
         {{{"tls"}, {"http://rdap.restore.test:" + std::to_string(http_port) + "/rdap"}}}}};
    std::ofstream(path("bootstrap.json")) << bootstrap.dump();
    harness.config.domain_age.bootstrap_file = path("bootstrap.json");
    harness.config.network.domain_age = true;
    ASSERT_EQ(harness.start(), "");
  }

  std::size_t rdap_requests_for(const std::string& domain) const {
    std::size_t count = 0;
    for (const auto& entry : requests()) count += entry["domain"] == domain ? 1 : 0;
    return count;
  }

  EngineHarness harness;
};

TEST_F(NetworkEngineRestoreAge, RestoredDomainAgeAsksNoRegistry) {
  constexpr int k2001_01_01 = 11323;
  constexpr int k2005_06_20 = 12954;
  constexpr int kRestored = 12345;  // the registry would say 2019-03-04
  NetworkEngine& engine = harness.make_engine();
  KnownDomainFacts aged;
  aged.domain = "aged.tls";
  aged.registrable_domain = "aged.tls";
  aged.domain_created_days = kRestored;
  aged.domain_age_valid_for = 1h;
  KnownDomainFacts stale = aged;
  stale.domain = stale.registrable_domain = "stale.tls";
  stale.domain_age_valid_for = 300ms;
  engine.restore({aged, stale});

  const NetworkFacts facts = harness.verify(1, request_for("a@aged.tls", Depth::quick));
  EXPECT_EQ(facts.domain_created_days, kRestored) << warnings_of(facts);
  EXPECT_EQ(facts.domain_age_days, days_since_epoch_today() - kRestored);
  EXPECT_EQ(rdap_requests_for("aged.tls"), 0u);

  // Not restored: asked (so the count above means something).
  const NetworkFacts fresh = harness.verify(2, request_for("a@fresh.tls", Depth::quick));
  EXPECT_EQ(fresh.domain_created_days, k2001_01_01) << warnings_of(fresh);
  EXPECT_EQ(rdap_requests_for("fresh.tls"), 1u);

  // Expired by now: asked again.
  std::this_thread::sleep_for(400ms);
  const NetworkFacts expired = harness.verify(3, request_for("a@stale.tls", Depth::quick));
  EXPECT_EQ(expired.domain_created_days, k2005_06_20) << warnings_of(expired);
  EXPECT_EQ(rdap_requests_for("stale.tls"), 1u);
}

// ------------------------------------------ domain age never holds back ---

class NetworkEngineDomainAge : public NetworkEngineRestoreAge {
 protected:
  nlohmann::json fixtures() const override {
    nlohmann::json quick = rdap_domain("2001-01-01T00:00:00Z");
    quick["delay_ms"] = 50;
    nlohmann::json slow = rdap_domain("2003-03-03T00:00:00Z");
    slow["delay_ms"] = 1500;
    return {{"rdap", {{"quick.tls", quick}, {"slow.tls", slow}, {"slowext.tls", slow}}}};
  }
};

TEST_F(NetworkEngineDomainAge, ADateThatComesWithinTheGraceIsInTheVerdict) {
  harness.config.network.domain_age_grace = 500ms;
  harness.make_engine();
  const NetworkFacts facts = harness.verify(1, request_for("a@quick.tls", Depth::quick));
  EXPECT_EQ(facts.domain_created_days, 11323) << warnings_of(facts);
  EXPECT_FALSE(facts.domain_age_pending);
}

TEST_F(NetworkEngineDomainAge, ASlowRegistryNeverHoldsTheVerdictBack) {
  harness.config.network.domain_age_grace = 100ms;
  NetworkEngine& engine = harness.make_engine();
  const auto started = std::chrono::steady_clock::now();
  const NetworkFacts facts = harness.verify(1, request_for("a@slow.tls", Depth::quick));
  EXPECT_LT(std::chrono::steady_clock::now() - started, 1000ms);
  EXPECT_TRUE(facts.domain_age_pending) << warnings_of(facts);
  EXPECT_FALSE(facts.domain_created_days.has_value());
  EXPECT_NE(warnings_of(facts).find("registration date pending"), std::string::npos);

  // The date comes later, for the worker to write to the domain's rows.
  std::vector<LateDomainAge> late;
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (late.empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
    late = engine.take_late_domain_ages();
  }
  ASSERT_EQ(late.size(), 1u);
  EXPECT_EQ(late[0].registrable_domain, "slow.tls");
  EXPECT_EQ(late[0].created_days, 12114);  // 2003-03-03
  EXPECT_EQ(engine.stats().late_domain_ages, 1u);
}

TEST_F(NetworkEngineDomainAge, NobodyWaitsForAServerSlowerThanTheGrace) {
  harness.config.network.domain_age_grace = 300ms;
  harness.make_engine();
  // The first verification waits its grace: the server has just been asked.
  auto started = std::chrono::steady_clock::now();
  const NetworkFacts first = harness.verify(1, request_for("a@slow.tls", Depth::quick));
  EXPECT_GE(std::chrono::steady_clock::now() - started, 250ms);
  EXPECT_TRUE(first.domain_age_pending);
  // Another address there joins a request asked long before it: no wait.
  started = std::chrono::steady_clock::now();
  const NetworkFacts again = harness.verify(2, request_for("b@slow.tls", Depth::quick));
  EXPECT_LT(std::chrono::steady_clock::now() - started, 200ms);
  EXPECT_TRUE(again.domain_age_pending) << warnings_of(again);
  // That request now hangs for longer than the grace: the next domain at the
  // same server does not wait at all either.
  started = std::chrono::steady_clock::now();
  const NetworkFacts second = harness.verify(3, request_for("a@slowext.tls", Depth::quick));
  EXPECT_LT(std::chrono::steady_clock::now() - started, 200ms);
  EXPECT_TRUE(second.domain_age_pending) << warnings_of(second);
}

TEST_F(NetworkEngineDomainAge, DepthExtendedWaitsForTheDate) {
  harness.config.network.domain_age_grace = 100ms;
  harness.make_engine();
  const NetworkFacts facts = harness.verify(1, request_for("a@slowext.tls", Depth::extended));
  EXPECT_EQ(facts.domain_created_days, 12114) << warnings_of(facts);
  EXPECT_FALSE(facts.domain_age_pending);
}

// --------------------------------------------------------- dead domains ---

TEST(NetworkEngineDeadDomain, NxdomainIsDeadOnceTheCanarySeesTheInternet) {
  EngineHarness harness;
  ASSERT_EQ(harness.start(), "");
  harness.config.canary.domains = {"known.restore.test"};
  harness.make_engine();
  const NetworkFacts facts = harness.verify(1, request_for("x@nosuch.restore.test"));
  EXPECT_EQ(facts.mx_found, false) << warnings_of(facts);
  EXPECT_EQ(facts.dead_domain, DeadDomain::nxdomain);
}

TEST(NetworkEngineDeadDomain, NxdomainFromABlindResolverIsNoAnswer) {
  EngineHarness harness;
  ASSERT_EQ(harness.start(), "");
  // The canary's own domain is NXDOMAIN: this resolver sees nothing.
  harness.config.canary.domains = {"canary.restore.test"};
  NetworkEngine& engine = harness.make_engine();
  const NetworkFacts facts = harness.verify(1, request_for("x@nosuch.restore.test"));
  EXPECT_FALSE(facts.mx_found.has_value()) << warnings_of(facts);
  EXPECT_EQ(facts.dead_domain, DeadDomain::none);
  EXPECT_NE(warnings_of(facts).find("resolver cannot see the Internet"), std::string::npos);
  const NetworkEngine::Stats stats = engine.stats();
  EXPECT_TRUE(stats.resolver.known);
  EXPECT_FALSE(stats.resolver.sees_internet);
  EXPECT_EQ(stats.resolver.episodes, 1u);
}

TEST(NetworkEngineDeadDomain, MxHostsWithoutAddressAreDead) {
  EngineHarness harness;
  ASSERT_EQ(harness.start(), "");
  harness.make_engine();
  const NetworkFacts facts = harness.verify(1, request_for("x@noaddr.restore.test"));
  EXPECT_EQ(facts.dead_domain, DeadDomain::no_address) << warnings_of(facts);
}

TEST(NetworkEngineDeadDomain, MxHostsOnlyOnLoopbackAreOffLimits) {
  EngineHarness harness;
  ASSERT_EQ(harness.start(), "");
  harness.config.smtp.address_policy.allow_private_networks = false;
  harness.make_engine();
  const NetworkFacts facts = harness.verify(1, request_for("x@known.restore.test"));
  EXPECT_EQ(facts.mx_found, true);
  EXPECT_EQ(facts.dead_domain, DeadDomain::off_limits) << warnings_of(facts);
}

// ---------------------------------------------------- in-flight sharing ---

TEST(NetworkEngineInFlight, IdenticalRequestsShareOneVerification) {
  EngineHarness harness;
  ASSERT_EQ(harness.start(R"({"recipients": {"alice@known.restore.test": [250, "2.1.5 OK"]},
                              "delays_ms": {"RCPT": 100}})"),
            "");
  NetworkEngine& engine = harness.make_engine();
  engine.submit(1, request_for("alice@known.restore.test"));
  engine.submit(2, request_for("alice@known.restore.test"));
  std::vector<Completion> done = harness.wait_for(2);
  ASSERT_EQ(done.size(), 2u);
  std::map<std::uint64_t, NetworkFacts> by_tag(done.begin(), done.end());
  ASSERT_EQ(by_tag.count(1), 1u);
  ASSERT_EQ(by_tag.count(2), 1u);
  EXPECT_EQ(by_tag[1].smtp, SmtpOutcome::exists) << warnings_of(by_tag[1]);
  EXPECT_FALSE(by_tag[1].smtp_transcript.empty());
  expect_same_facts(by_tag[1], by_tag[2]);
  EXPECT_EQ(harness.rcpts_to("alice@known.restore.test"), 1);
  EXPECT_EQ(harness.dnsmasq.wait_for_query_count("MX", "known.restore.test", 1), 1);

  // Once finished it is verified anew; another depth is another verification.
  engine.submit(3, request_for("alice@known.restore.test"));
  engine.submit(4, request_for("alice@known.restore.test", Depth::extended));
  done = harness.wait_for(2);
  EXPECT_EQ(harness.rcpts_to("alice@known.restore.test"), 3);
  std::this_thread::sleep_for(200ms);
  EXPECT_TRUE(engine.take_completions().empty());  // exactly one completion per tag

  const NetworkEngine::Stats stats = engine.stats();
  EXPECT_EQ(stats.submitted, 4u);
  EXPECT_EQ(stats.completed, 4u);
  EXPECT_EQ(stats.in_flight, 0u);
}

TEST(NetworkEngineInFlight, MxOnlyIsNotSharedWithAFullVerification) {
  EngineHarness harness;
  ASSERT_EQ(harness.start(R"({"recipients": {"alice@known.restore.test": [250, "2.1.5 OK"]},
                              "delays_ms": {"RCPT": 100}})"),
            "");
  NetworkEngine& engine = harness.make_engine();
  engine.submit(1, request_for("alice@known.restore.test"));
  engine.submit(2, request_for("alice@known.restore.test", Depth::standard, /*mx_only=*/true));
  std::map<std::uint64_t, NetworkFacts> by_tag;
  for (Completion& completion : harness.wait_for(2)) by_tag.insert(std::move(completion));
  EXPECT_EQ(by_tag[1].smtp, SmtpOutcome::exists) << warnings_of(by_tag[1]);
  EXPECT_EQ(by_tag[2].smtp, SmtpOutcome::not_attempted);
  EXPECT_EQ(by_tag[2].mx_records, std::vector<std::string>{"mx.restore.test"});
}

// ------------------------------------------------------------- shutdown ---

// The worker destroys its engine on SIGTERM, whatever the engine is doing.
// Answers that arrive while it tears down were posted to the loop as
// handlers; none may run once the components they call into are gone (a
// DNS answer delivered after the tear-down once crashed the worker: the
// soak's SIGTERM under load). Each round stops the engine at another moment
// of a stream of DNS answers and SMTP probes.
TEST(NetworkEngineShutdown, DestroyedWhileAnswersArriveRunsNoHandlerAfterTearDown) {
  EngineHarness harness;
  ASSERT_EQ(harness.start(R"({"recipients": {"alice@known.restore.test": [250, "2.1.5 OK"]}})"),
            "");
  std::uint64_t tag = 0;
  for (int round = 0; round < 40; ++round) {
    NetworkEngine& engine = harness.make_engine();
    for (int i = 0; i < 150; ++i) {
      // Unknown names: NXDOMAIN answers; the known domain: MX, A, then SMTP.
      engine.submit(++tag, request_for("u" + std::to_string(i) + "@r" + std::to_string(round) +
                                       "n" + std::to_string(i) + ".restore.test"));
      engine.submit(++tag,
                    request_for("u" + std::to_string(round * 1000 + i) + "@known.restore.test"));
    }
    std::this_thread::sleep_for(std::chrono::microseconds(round * 250));
    harness.engine.reset();  // joins the I/O thread: a handler run too late crashes here
  }
  SUCCEED() << tag << " requests submitted over 40 engines";
}

}  // namespace
}  // namespace mailsentry
