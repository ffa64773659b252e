// The prober against scripted SMTP servers on loopback addresses. Assertions
// read the servers' transcripts: connections, commands, timestamps.
#include "net/smtp_prober.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <asio/io_context.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "smtp_prober_fixture.hpp"

namespace mailsentry {
namespace {

using namespace prober_test;

class SmtpProberTest : public SmtpProberFixture {};

constexpr const char* kBasicScenario = R"({
  "capabilities": ["PIPELINING", "8BITMIME"],
  "recipients": {"alice@example.test": [250, "2.1.5 OK"],
                 "full@example.test": [552, "5.2.2 Mailbox full"]}
})";

TEST_F(SmtpProberTest, ExistsAndDoesNotExist) {
  ScriptedSmtpServer* server = start_server("127.0.0.2", kBasicScenario);
  ASSERT_NE(server, nullptr);
  dns["mx.example.test"] = {"127.0.0.2"};
  make_prober();

  const ProbeResult alice = probe(request("alice@example.test", {"mx.example.test"}));
  EXPECT_EQ(alice.outcome, SmtpOutcome::exists) << warnings_of(alice);
  EXPECT_EQ(alice.code, 250);
  EXPECT_EQ(alice.enhanced_code, "2.1.5");
  EXPECT_EQ(alice.mx_host, "mx.example.test");
  EXPECT_EQ(alice.catch_all, false);  // the random address was refused
  EXPECT_TRUE(transcript_has(alice, "C: EHLO probe.mailsentry.test"));
  EXPECT_TRUE(transcript_has(alice, "C: MAIL FROM:<verify@mailsentry.test>"));
  EXPECT_TRUE(transcript_has(alice, "C: RCPT TO:<alice@example.test>"));
  EXPECT_TRUE(transcript_has(alice, "S: 250 2.1.5 OK"));

  const ProbeResult bob = probe(request("bob@example.test", {"mx.example.test"}));
  EXPECT_EQ(bob.outcome, SmtpOutcome::does_not_exist) << warnings_of(bob);
  EXPECT_EQ(bob.code, 550);
  EXPECT_EQ(bob.enhanced_code, "5.1.1");
  EXPECT_EQ(bob.message, "No such user");

  const ProbeResult full = probe(request("full@example.test", {"mx.example.test"}));
  EXPECT_EQ(full.outcome, SmtpOutcome::exists);
  EXPECT_TRUE(full.mailbox_full);

  // One session for all three, in the one transaction it keeps open: later
  // recipients join it (no RSET, no second MAIL FROM); QUIT only at the end.
  EXPECT_EQ(server->connections().size(), 1u);
  EXPECT_EQ(server->client_lines("MAIL").size(), 1u);
  EXPECT_EQ(server->client_lines("RSET").size(), 0u);
  EXPECT_EQ(server->client_lines("QUIT").size(), 0u);
  EXPECT_EQ(server->client_lines("RCPT").size(), 4u);  // 2 + 1 + 1: catch-all remembered
}

TEST_F(SmtpProberTest, CatchAllDetectedAndRemembered) {
  ScriptedSmtpServer* server = start_server("127.0.0.2", R"({"catch_all": true})");
  ASSERT_NE(server, nullptr);
  dns["mx.catchall.test"] = {"127.0.0.2"};
  make_prober();

  const ProbeResult first = probe(request("anyone@catchall.test", {"mx.catchall.test"}));
  EXPECT_EQ(first.outcome, SmtpOutcome::inconclusive);
  EXPECT_EQ(first.catch_all, true);
  const auto rcpts = server->client_lines("RCPT");
  ASSERT_EQ(rcpts.size(), 2u);
  // The second recipient is 24 random letters and digits at the same domain.
  const std::string probe_address = rcpts[1].text.substr(9, rcpts[1].text.size() - 10);
  EXPECT_EQ(probe_address.size(), 24 + std::string("@catchall.test").size());
  EXPECT_NE(probe_address.find("@catchall.test"), std::string::npos);

  const ProbeResult second = probe(request("someone@catchall.test", {"mx.catchall.test"}));
  EXPECT_EQ(second.outcome, SmtpOutcome::inconclusive);
  EXPECT_EQ(second.catch_all, true);                   // from memory
  EXPECT_EQ(server->client_lines("RCPT").size(), 3u);  // one RCPT for the second address
}

TEST_F(SmtpProberTest, GreylistingThenAcceptanceWithExtendedDepth) {
  ScriptedSmtpServer* server = start_server("127.0.0.2", R"({
    "greylist": true,
    "recipients": {"alice@grey.test": [250, "2.1.5 OK"]}
  })");
  ASSERT_NE(server, nullptr);
  dns["mx.grey.test"] = {"127.0.0.2"};
  make_prober();

  // Standard depth: the deferral is reported as it is.
  const ProbeResult standard = probe(request("carol@grey.test", {"mx.grey.test"}));
  EXPECT_EQ(standard.outcome, SmtpOutcome::inconclusive);
  EXPECT_TRUE(standard.greylisted);
  EXPECT_EQ(standard.code, 451);

  ProbeRequest extended = request("alice@grey.test", {"mx.grey.test"});
  extended.settings.extended = true;
  extended.settings.greylist_retry_delay = 300ms;
  const ProbeResult result = probe(extended);
  EXPECT_EQ(result.outcome, SmtpOutcome::exists) << warnings_of(result);
  EXPECT_TRUE(result.greylisted);
  EXPECT_EQ(result.code, 250);

  const auto alice_rcpts = server->client_lines("RCPT TO:<alice@grey.test>");
  ASSERT_EQ(alice_rcpts.size(), 2u);
  EXPECT_GE(alice_rcpts[1].t - alice_rcpts[0].t, 0.28);
  EXPECT_LT(alice_rcpts[1].t - alice_rcpts[0].t, 1.5);
}

TEST_F(SmtpProberTest, TarpitFollowsTheProgressiveTimeoutSchedule) {
  ScriptedSmtpServer* server = start_server("127.0.0.2", R"({"banner_delay_ms": -1})");
  ASSERT_NE(server, nullptr);
  dns["mx.tarpit.test"] = {"127.0.0.2"};
  make_prober();

  const auto started = std::chrono::steady_clock::now();
  const ProbeResult result =
      probe(request("x@tarpit.test", {"mx.tarpit.test"}, {200ms, 300ms, 400ms}));
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  EXPECT_EQ(result.outcome, SmtpOutcome::inconclusive);
  EXPECT_TRUE(has_warning(result, "timeout")) << warnings_of(result);

  const auto connections = server->connections();
  ASSERT_EQ(connections.size(), 3u);
  const double tolerance = 0.12;
  EXPECT_NEAR(connections[1].t - connections[0].t, 0.200, tolerance);
  EXPECT_NEAR(connections[2].t - connections[1].t, 0.300, tolerance);
  EXPECT_GE(connections[1].t - connections[0].t, 0.19);
  EXPECT_GE(connections[2].t - connections[1].t, 0.29);
  EXPECT_NEAR(elapsed, 0.9, 0.4);
}

TEST_F(SmtpProberTest, ConnectionRefused) {
  // A live server fixes the port; nothing listens on 127.0.0.3 at that port.
  ASSERT_NE(start_server("127.0.0.2", kBasicScenario), nullptr);
  dns["mx.refused.test"] = {"127.0.0.3"};
  make_prober();
  const auto started = std::chrono::steady_clock::now();
  const ProbeResult result = probe(request("x@refused.test", {"mx.refused.test"}, {200ms, 300ms}));
  EXPECT_EQ(result.outcome, SmtpOutcome::inconclusive);
  EXPECT_TRUE(has_warning(result, "refused")) << warnings_of(result);
  EXPECT_TRUE(has_warning(result, "timeout")) << warnings_of(result);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 400ms);  // refusals are not waited for
}

TEST_F(SmtpProberTest, Banner421IsInconclusiveAndBacksOff) {
  ScriptedSmtpServer* server =
      start_server("127.0.0.2", R"({"banner": [421, "4.7.0 Too busy, try later"]})");
  ASSERT_NE(server, nullptr);
  dns["mx.busy.test"] = {"127.0.0.2"};
  make_prober();
  const ProbeResult first = probe(request("x@busy.test", {"mx.busy.test"}));
  EXPECT_EQ(first.outcome, SmtpOutcome::inconclusive);
  EXPECT_TRUE(has_warning(first, "421")) << warnings_of(first);
  EXPECT_EQ(first.message, "Too busy, try later");

  const ProbeResult second = probe(request("y@busy.test", {"mx.busy.test"}));
  EXPECT_EQ(second.outcome, SmtpOutcome::inconclusive);
  EXPECT_TRUE(has_warning(second, "backing off from mx.busy.test")) << warnings_of(second);
  EXPECT_EQ(server->connections().size(), 1u);
}

TEST_F(SmtpProberTest, Banner554IsInconclusive) {
  ASSERT_NE(start_server("127.0.0.2", R"({"banner": [554, "5.7.1 No probes"]})"), nullptr);
  dns["mx.hostile.test"] = {"127.0.0.2"};
  make_prober();
  const ProbeResult result = probe(request("x@hostile.test", {"mx.hostile.test"}));
  EXPECT_EQ(result.outcome, SmtpOutcome::inconclusive);
  EXPECT_TRUE(has_warning(result, "554")) << warnings_of(result);
  EXPECT_EQ(result.enhanced_code, "5.7.1");
}

TEST_F(SmtpProberTest, DeadFirstMxLiveSecond) {
  ScriptedSmtpServer* live = start_server("127.0.0.3", kBasicScenario);
  ASSERT_NE(live, nullptr);
  dns["mx1.example.test"] = {"127.0.0.2"};  // nothing listens there
  dns["mx2.example.test"] = {"127.0.0.3"};
  make_prober();
  const ProbeResult result =
      probe(request("alice@example.test", {"mx1.example.test", "mx2.example.test"}));
  EXPECT_EQ(result.outcome, SmtpOutcome::exists) << warnings_of(result);
  EXPECT_EQ(result.mx_host, "mx2.example.test");
  EXPECT_TRUE(has_warning(result, "mx1.example.test")) << warnings_of(result);
  EXPECT_EQ(live->connections().size(), 1u);
}

TEST_F(SmtpProberTest, UnresolvableMxIsSkipped) {
  ASSERT_NE(start_server("127.0.0.3", kBasicScenario), nullptr);
  dns["mx2.example.test"] = {"127.0.0.3"};
  make_prober();
  const ProbeResult result =
      probe(request("alice@example.test", {"nowhere.example.test", "mx2.example.test"}));
  EXPECT_EQ(result.outcome, SmtpOutcome::exists) << warnings_of(result);
  EXPECT_TRUE(has_warning(result, "no address for MX host nowhere.example.test"));
}

TEST_F(SmtpProberTest, StartTlsOpportunistic) {
  ScriptedSmtpServer* server = start_server("127.0.0.2", R"({
    "capabilities": ["PIPELINING", "STARTTLS"],
    "recipients": {"alice@example.test": [250, "2.1.5 OK"]}
  })");
  ASSERT_NE(server, nullptr);
  dns["mx.example.test"] = {"127.0.0.2"};
  make_prober();
  const ProbeResult result = probe(request("alice@example.test", {"mx.example.test"}));
  EXPECT_EQ(result.outcome, SmtpOutcome::exists) << warnings_of(result);
  EXPECT_TRUE(transcript_has(result, "C: STARTTLS"));
  EXPECT_TRUE(transcript_has(result, "* TLS established"));
  EXPECT_EQ(server->client_lines("EHLO").size(), 2u);  // again after TLS
  bool tls = false;
  for (const ServerEvent& event : server->events()) tls = tls || event.dir == "tls";
  EXPECT_TRUE(tls);
}

TEST_F(SmtpProberTest, StartTlsRequired) {
  ScriptedSmtpServer* plain = start_server("127.0.0.2", kBasicScenario);
  ASSERT_NE(plain, nullptr);
  ASSERT_NE(start_server("127.0.0.3", R"({
    "capabilities": ["STARTTLS"],
    "recipients": {"alice@tls.test": [250, "2.1.5 OK"]}
  })"),
            nullptr);
  dns["mx.example.test"] = {"127.0.0.2"};
  dns["mx.tls.test"] = {"127.0.0.3"};
  options.starttls = StartTlsMode::required;
  make_prober();

  const ProbeResult refused = probe(request("alice@example.test", {"mx.example.test"}));
  EXPECT_EQ(refused.outcome, SmtpOutcome::inconclusive);
  EXPECT_TRUE(has_warning(refused, "STARTTLS required but not offered")) << warnings_of(refused);
  EXPECT_TRUE(plain->client_lines("MAIL").empty());

  const ProbeResult secured = probe(request("alice@tls.test", {"mx.tls.test"}));
  EXPECT_EQ(secured.outcome, SmtpOutcome::exists) << warnings_of(secured);
}

TEST_F(SmtpProberTest, PolicyRefusalOnEveryRcptIsInconclusive) {
  ASSERT_NE(start_server("127.0.0.2", R"({"rcpt_all": [550, "5.7.1 Probing not welcome"]})"),
            nullptr);
  dns["mx.policy.test"] = {"127.0.0.2"};
  make_prober();
  const ProbeResult result = probe(request("alice@policy.test", {"mx.policy.test"}));
  EXPECT_EQ(result.outcome, SmtpOutcome::inconclusive);
  EXPECT_EQ(result.code, 550);
  EXPECT_EQ(result.enhanced_code, "5.7.1");
  EXPECT_FALSE(result.catch_all.has_value());
}

TEST_F(SmtpProberTest, Smtputf8Recipient) {
  ScriptedSmtpServer* server = start_server("127.0.0.2", R"({
    "capabilities": ["SMTPUTF8"],
    "recipients": {"j\u00f6rg@example.test": [250, "2.1.5 OK"]}
  })");
  ASSERT_NE(server, nullptr);
  ScriptedSmtpServer* ascii_only = start_server("127.0.0.3", kBasicScenario);
  ASSERT_NE(ascii_only, nullptr);
  dns["mx.utf8.test"] = {"127.0.0.2"};
  dns["mx.ascii.test"] = {"127.0.0.3"};
  make_prober();

  ProbeRequest utf8 = request("j\xc3\xb6rg@example.test", {"mx.utf8.test"});
  utf8.needs_smtputf8 = true;
  const ProbeResult result = probe(utf8);
  EXPECT_EQ(result.outcome, SmtpOutcome::exists) << warnings_of(result);
  const auto mail = server->client_lines("MAIL");
  ASSERT_EQ(mail.size(), 1u);
  EXPECT_EQ(mail[0].text, "MAIL FROM:<verify@mailsentry.test> SMTPUTF8");
  EXPECT_EQ(server->client_lines("RCPT TO:<j\xc3\xb6rg@example.test>").size(), 1u);

  utf8.mx = {MxHost{10, "mx.ascii.test"}};
  const ProbeResult refused = probe(utf8);
  EXPECT_EQ(refused.outcome, SmtpOutcome::inconclusive);
  EXPECT_TRUE(has_warning(refused, "SMTPUTF8")) << warnings_of(refused);
  EXPECT_TRUE(ascii_only->client_lines("MAIL").empty());
}

TEST_F(SmtpProberTest, MultiLineAndMalformedReplies) {
  ScriptedSmtpServer* server = start_server("127.0.0.2", R"({
    "recipients": {
      "multi@example.test": [250, ["2.1.5 first line", "2.1.5 second line"]],
      "bad@example.test": {"raw": "25O broken\r\n"}
    }
  })");
  ASSERT_NE(server, nullptr);
  dns["mx.example.test"] = {"127.0.0.2"};
  make_prober();

  const ProbeResult multi = probe(request("multi@example.test", {"mx.example.test"}));
  EXPECT_EQ(multi.outcome, SmtpOutcome::exists) << warnings_of(multi);
  EXPECT_EQ(multi.message, "first line second line");

  const ProbeResult bad = probe(request("bad@example.test", {"mx.example.test"}));
  EXPECT_EQ(bad.outcome, SmtpOutcome::inconclusive);
  EXPECT_TRUE(has_warning(bad, "malformed")) << warnings_of(bad);
  // The connection was dropped, not QUIT.
  EXPECT_TRUE(server->wait_for_event(
      [](const ServerEvent& event) { return event.dir == "close" && event.text.empty(); }));
  EXPECT_TRUE(server->client_lines("QUIT").empty());
}

TEST_F(SmtpProberTest, OversizedReplyIsInconclusive) {
  ASSERT_NE(start_server("127.0.0.2", R"({"banner": [220, ")" + std::string(5000, 'x') + R"("]})"),
            nullptr);
  dns["mx.example.test"] = {"127.0.0.2"};
  make_prober();
  const ProbeResult result = probe(request("alice@example.test", {"mx.example.test"}));
  EXPECT_EQ(result.outcome, SmtpOutcome::inconclusive);
  EXPECT_TRUE(has_warning(result, "too long")) << warnings_of(result);
}

TEST_F(SmtpProberTest, SlowBannerWithinTimeout) {
  ScriptedSmtpServer* server = start_server("127.0.0.2", R"({
    "banner_delay_ms": 150,
    "recipients": {"alice@example.test": [250, "2.1.5 OK"]}
  })");
  ASSERT_NE(server, nullptr);
  dns["mx.example.test"] = {"127.0.0.2"};
  make_prober();
  const ProbeResult result = probe(request("alice@example.test", {"mx.example.test"}, {400ms}));
  EXPECT_EQ(result.outcome, SmtpOutcome::exists) << warnings_of(result);
  EXPECT_EQ(server->connections().size(), 1u);
}

TEST_F(SmtpProberTest, PrivateAddressRefusedByDefault) {
  ScriptedSmtpServer* server = start_server("127.0.0.2", kBasicScenario);
  ASSERT_NE(server, nullptr);
  dns["mx.example.test"] = {"127.0.0.2"};
  options.address_policy.allow_private_networks = false;
  make_prober();
  const ProbeResult result = probe(request("alice@example.test", {"mx.example.test"}));
  EXPECT_EQ(result.outcome, SmtpOutcome::inconclusive);
  EXPECT_TRUE(has_warning(result, "refused to connect to 127.0.0.2 (loopback"))
      << warnings_of(result);
  EXPECT_TRUE(server->connections().empty());
}

TEST_F(SmtpProberTest, SessionReuseForConsecutiveRecipients) {
  ScriptedSmtpServer* server = start_server("127.0.0.2", R"({"catch_all": true})");
  ASSERT_NE(server, nullptr);
  dns["mx.example.test"] = {"127.0.0.2"};
  make_prober();
  for (int i = 0; i < 10; ++i) {
    const ProbeResult result =
        probe(request("user" + std::to_string(i) + "@example.test", {"mx.example.test"}));
    EXPECT_EQ(result.catch_all, true) << warnings_of(result);
  }
  EXPECT_EQ(server->connections().size(), 1u);
  EXPECT_EQ(server->client_lines("RCPT").size(), 11u);
  // The transaction of the first probe stays open; the others join it.
  EXPECT_EQ(server->client_lines("MAIL").size(), 1u);
  EXPECT_EQ(server->client_lines("RSET").size(), 0u);
}

TEST_F(SmtpProberTest, ConnectionLimitsUnderConcurrentProbes) {
  ScriptedSmtpServer* server = start_server("127.0.0.2", R"({
    "capabilities": ["PIPELINING"],
    "delays_ms": {"*": 3},
    "catch_all": true
  })");
  ASSERT_NE(server, nullptr);
  dns["mx.example.test"] = {"127.0.0.2"};
  options.max_connections_per_mx = 2;
  options.max_recipients_per_session = 10;  // sessions are recycled along the way
  make_prober();
  std::vector<ProbeRequest> requests;
  for (int i = 0; i < 50; ++i)
    requests.push_back(request("user" + std::to_string(i) + "@example.test", {"mx.example.test"}));
  const auto results = probe_all(std::move(requests), 30s);
  for (const ProbeResult& result : results) {
    EXPECT_EQ(result.catch_all, true) << warnings_of(result);
  }
  EXPECT_LE(server->max_concurrent_connections(), 2);
  EXPECT_GE(server->connections().size(), 5u);  // 50+ recipients, 10 per session
  std::map<int, int> rcpts_per_connection;
  for (const ServerEvent& line : server->client_lines("RCPT")) ++rcpts_per_connection[line.conn];
  for (const auto& [conn, count] : rcpts_per_connection) EXPECT_LE(count, 10) << conn;
  const auto stats = prober->stats();
  ASSERT_EQ(stats.size(), 1u);
  EXPECT_EQ(stats[0].host, "mx.example.test");
  EXPECT_EQ(stats[0].queued, 0);
}

TEST_F(SmtpProberTest, TotalConnectionLimitAcrossMxHosts) {
  ScriptedSmtpServer* first =
      start_server("127.0.0.2", R"({"catch_all": true, "delays_ms": {"*": 10}})");
  ASSERT_NE(first, nullptr);
  ScriptedSmtpServer* second =
      start_server("127.0.0.3", R"({"catch_all": true, "delays_ms": {"*": 10}})");
  ASSERT_NE(second, nullptr);
  dns["mx.one.test"] = {"127.0.0.2"};
  dns["mx.two.test"] = {"127.0.0.3"};
  options.max_connections_total = 1;
  make_prober();
  std::vector<ProbeRequest> requests;
  for (int i = 0; i < 6; ++i) {
    requests.push_back(request("u" + std::to_string(i) + (i % 2 ? "@one.test" : "@two.test"),
                               {i % 2 ? "mx.one.test" : "mx.two.test"}));
  }
  for (const ProbeResult& result : probe_all(std::move(requests))) {
    EXPECT_EQ(result.catch_all, true) << warnings_of(result);
  }
  // Both servers log on the same monotonic clock: merge and count.
  std::vector<ServerEvent> events = first->events();
  for (ServerEvent& event : second->events()) events.push_back(std::move(event));
  std::sort(events.begin(), events.end(),
            [](const ServerEvent& a, const ServerEvent& b) { return a.t < b.t; });
  int open = 0;
  int most = 0;
  for (const ServerEvent& event : events) {
    if (event.dir == "open") most = std::max(most, ++open);
    if (event.dir == "close") --open;
  }
  EXPECT_EQ(most, 1);
  EXPECT_GE(first->connections().size(), 1u);
  EXPECT_GE(second->connections().size(), 1u);
}

TEST_F(SmtpProberTest, LineBreaksInAddressesAreNeverSent) {
  ScriptedSmtpServer* server = start_server("127.0.0.2", kBasicScenario);
  ASSERT_NE(server, nullptr);
  dns["mx.example.test"] = {"127.0.0.2"};
  make_prober();
  const ProbeResult result =
      probe(request("a@example.test>\r\nDATA\r\n<b@example.test", {"mx.example.test"}));
  EXPECT_EQ(result.outcome, SmtpOutcome::inconclusive);
  EXPECT_TRUE(has_warning(result, "line break")) << warnings_of(result);
  EXPECT_TRUE(server->client_lines("RCPT").empty());
}

TEST_F(SmtpProberTest, RejectionCapOpensANewSession) {
  ScriptedSmtpServer* server = start_server("127.0.0.2", kBasicScenario);
  ASSERT_NE(server, nullptr);
  dns["mx.example.test"] = {"127.0.0.2"};
  options.max_rejections_per_session = 2;
  make_prober();
  for (int i = 0; i < 4; ++i) {
    const ProbeResult result =
        probe(request("nobody" + std::to_string(i) + "@example.test", {"mx.example.test"}));
    EXPECT_EQ(result.outcome, SmtpOutcome::does_not_exist);
  }
  // 2 rejections (address + catch-all check), then 1 + 1, then 1.
  EXPECT_EQ(server->connections().size(), 3u);
  std::map<int, int> rcpts_per_connection;
  for (const ServerEvent& line : server->client_lines("RCPT")) ++rcpts_per_connection[line.conn];
  for (const auto& [conn, count] : rcpts_per_connection) EXPECT_LE(count, 2) << conn;
  EXPECT_EQ(server->client_lines("QUIT").size(), 2u);  // the capped sessions were QUIT
}

TEST_F(SmtpProberTest, CircuitBreakerFailsFast) {
  ScriptedSmtpServer* server = start_server("127.0.0.2", R"({"banner_delay_ms": -1})");
  ASSERT_NE(server, nullptr);
  dns["mx.tarpit.test"] = {"127.0.0.2"};
  options.breaker_failure_threshold = 2;
  make_prober();
  for (int i = 0; i < 2; ++i) {
    const ProbeResult result =
        probe(request("x" + std::to_string(i) + "@tarpit.test", {"mx.tarpit.test"}, {150ms}));
    EXPECT_TRUE(has_warning(result, "timeout")) << warnings_of(result);
  }
  const auto started = std::chrono::steady_clock::now();
  const ProbeResult fast = probe(request("y@tarpit.test", {"mx.tarpit.test"}, {150ms, 150ms}));
  EXPECT_LT(std::chrono::steady_clock::now() - started, 100ms);
  EXPECT_EQ(fast.outcome, SmtpOutcome::inconclusive);
  EXPECT_TRUE(has_warning(fast, "circuit breaker open for mx.tarpit.test")) << warnings_of(fast);
  EXPECT_EQ(server->connections().size(), 2u);
  const auto stats = prober->stats();
  ASSERT_EQ(stats.size(), 1u);
  EXPECT_TRUE(stats[0].breaker_open);
  EXPECT_EQ(stats[0].timeouts, 2u);
}

TEST_F(SmtpProberTest, RestoredBreakerFailsFastUntilItExpires) {
  ScriptedSmtpServer* server =
      start_server("127.0.0.2", R"({"recipients": {"b@restored.test": [250, "2.1.5 OK"]}})");
  ASSERT_NE(server, nullptr);
  dns["mx.restored.test"] = {"127.0.0.2"};
  options.breaker_failure_threshold = 3;
  make_prober();
  prober->restore_breaker("MX.Restored.Test", 400ms);
  const ProbeResult fast = probe(request("a@restored.test", {"mx.restored.test"}));
  EXPECT_EQ(fast.outcome, SmtpOutcome::inconclusive);
  EXPECT_TRUE(has_warning(fast, "circuit breaker open for mx.restored.test")) << warnings_of(fast);
  EXPECT_EQ(server->connections().size(), 0u);
  const auto stats = prober->stats();
  ASSERT_EQ(stats.size(), 1u);
  EXPECT_TRUE(stats[0].breaker_open);
  EXPECT_GT(stats[0].breaker_open_until, std::chrono::system_clock::now());
  EXPECT_LT(stats[0].breaker_open_until, std::chrono::system_clock::now() + 1s);
  // After the restored time the host is probed again.
  std::this_thread::sleep_for(450ms);
  const ProbeResult later = probe(request("b@restored.test", {"mx.restored.test"}));
  EXPECT_EQ(later.outcome, SmtpOutcome::exists) << warnings_of(later);
  EXPECT_GE(server->connections().size(), 1u);
}

TEST_F(SmtpProberTest, SourceAddressesRotatePerConnection) {
  ScriptedSmtpServer* server = start_server("127.0.0.2", R"({"catch_all": true})");
  ASSERT_NE(server, nullptr);
  dns["mx.example.test"] = {"127.0.0.2"};
  options.source_addresses = {asio::ip::make_address("127.0.0.5"),
                              asio::ip::make_address("127.0.0.6")};
  options.max_recipients_per_session = 2;  // one probe per session
  make_prober();
  for (const char* domain : {"a.test", "b.test", "c.test"}) {
    probe(request(std::string("x@") + domain, {"mx.example.test"}));
  }
  const auto connections = server->connections();
  ASSERT_EQ(connections.size(), 3u);
  EXPECT_EQ(connections[0].text.substr(0, 10), "127.0.0.5:");
  EXPECT_EQ(connections[1].text.substr(0, 10), "127.0.0.6:");
  EXPECT_EQ(connections[2].text.substr(0, 10), "127.0.0.5:");
}

TEST_F(SmtpProberTest, IdleSessionIsQuitAfterIdleTimeout) {
  ScriptedSmtpServer* server = start_server("127.0.0.2", kBasicScenario);
  ASSERT_NE(server, nullptr);
  dns["mx.example.test"] = {"127.0.0.2"};
  options.idle_timeout = 150ms;
  make_prober();
  probe(request("alice@example.test", {"mx.example.test"}));
  EXPECT_TRUE(server->client_lines("QUIT").empty());
  run_for(400ms);
  EXPECT_EQ(server->client_lines("QUIT").size(), 1u);
  EXPECT_EQ(prober->stats().at(0).sessions_open, 0);
}

TEST_F(SmtpProberTest, ShutdownFailsPendingProbes) {
  ASSERT_NE(start_server("127.0.0.2", R"({"banner_delay_ms": -1})"), nullptr);
  dns["mx.tarpit.test"] = {"127.0.0.2"};
  options.max_connections_per_mx = 1;
  make_prober();
  int calls = 0;
  std::vector<ProbeResult> results;
  for (int i = 0; i < 3; ++i) {  // one connecting, two queued
    prober->probe(request("x" + std::to_string(i) + "@tarpit.test", {"mx.tarpit.test"}, {5000ms}),
                  [&](ProbeResult result) {
                    ++calls;
                    results.push_back(std::move(result));
                  });
  }
  run_for(100ms);
  EXPECT_EQ(calls, 0);
  prober->shutdown();
  run_for(200ms);
  EXPECT_EQ(calls, 3);
  for (const ProbeResult& result : results) {
    EXPECT_TRUE(has_warning(result, "prober shut down")) << warnings_of(result);
  }
  // Probes after shutdown fail at once.
  probe(request("late@tarpit.test", {"mx.tarpit.test"}));
}

TEST_F(SmtpProberTest, DestructionWithWorkInFlight) {
  ASSERT_NE(start_server("127.0.0.2", R"({"banner_delay_ms": -1})"), nullptr);
  ASSERT_NE(start_server("127.0.0.3", R"({"delays_ms": {"RCPT": 300}})"), nullptr);
  dns["mx.tarpit.test"] = {"127.0.0.2"};
  dns["mx.slow.test"] = {"127.0.0.3"};
  make_prober();
  int calls = 0;
  prober->probe(request("x@tarpit.test", {"mx.tarpit.test"}), [&](ProbeResult) { ++calls; });
  prober->probe(request("x@slow.test", {"mx.slow.test"}), [&](ProbeResult) { ++calls; });
  run_for(150ms);  // one waits for a banner, the other for its RCPT replies
  prober.reset();
  run_for(300ms);
  EXPECT_EQ(calls, 2);
}

TEST_F(SmtpProberTest, NoTranscriptUnlessAsked) {
  ASSERT_NE(start_server("127.0.0.2", kBasicScenario), nullptr);
  dns["mx.example.test"] = {"127.0.0.2"};
  options.log_transcripts = false;
  make_prober();
  const ProbeResult result = probe(request("alice@example.test", {"mx.example.test"}));
  EXPECT_EQ(result.outcome, SmtpOutcome::exists);
  EXPECT_TRUE(result.transcript.empty());
}

// ------------------------------------------- how the hosts were reached ---

TEST_F(SmtpProberTest, ReachIsAnsweredWhenAnRcptReplyDecided) {
  ASSERT_NE(start_server("127.0.0.2", kBasicScenario), nullptr);
  dns["mx.example.test"] = {"127.0.0.2"};
  make_prober();
  const ProbeResult result = probe(request("bob@example.test", {"mx.example.test"}));
  EXPECT_EQ(result.outcome, SmtpOutcome::does_not_exist) << warnings_of(result);
  EXPECT_EQ(result.reach, MailHostReach::answered) << describe(result.reach);
  EXPECT_TRUE(result.port25_known_working);
}

TEST_F(SmtpProberTest, ReachIsAnsweredWhenTheGreetingRefuses) {
  ASSERT_NE(start_server("127.0.0.2", R"({"banner": [554, "5.7.1 No probes"]})"), nullptr);
  dns["mx.hostile.test"] = {"127.0.0.2"};
  make_prober();
  const ProbeResult result = probe(request("x@hostile.test", {"mx.hostile.test"}));
  EXPECT_EQ(result.outcome, SmtpOutcome::inconclusive);
  EXPECT_EQ(result.reach, MailHostReach::answered) << describe(result.reach);
  EXPECT_TRUE(result.port25_known_working);
}

TEST_F(SmtpProberTest, ReachIsAnsweredWhenAnyHostAnswered) {
  ASSERT_NE(start_server("127.0.0.3", kBasicScenario), nullptr);
  dns["mx1.example.test"] = {"127.0.0.2"};  // refuses
  dns["mx2.example.test"] = {"127.0.0.3"};
  make_prober();
  const ProbeResult result =
      probe(request("alice@example.test", {"mx1.example.test", "mx2.example.test"}));
  EXPECT_EQ(result.outcome, SmtpOutcome::exists) << warnings_of(result);
  EXPECT_EQ(result.reach, MailHostReach::answered) << describe(result.reach);
}

TEST_F(SmtpProberTest, ReachIsNoAddressWhenNoMxHostHasOne) {
  make_prober();  // the fixture's DNS knows neither name: NXDOMAIN
  const ProbeResult result =
      probe(request("x@gone.test", {"mx1.gone.test", "mx2.gone.test"}, {200ms, 200ms}));
  EXPECT_EQ(result.outcome, SmtpOutcome::inconclusive);
  EXPECT_EQ(result.reach, MailHostReach::no_address) << describe(result.reach);
  EXPECT_TRUE(has_warning(result, "no address for MX host mx1.gone.test")) << warnings_of(result);
  EXPECT_TRUE(has_warning(result, "no address for MX host mx2.gone.test")) << warnings_of(result);
  EXPECT_FALSE(result.port25_known_working);
}

TEST_F(SmtpProberTest, ReachIsNoAnswerWhenAHostLookupMayPass) {
  dns_failing.insert("mx2.flaky.test");  // SERVFAIL; mx1.flaky.test is NXDOMAIN
  make_prober();
  const ProbeResult result = probe(request("x@flaky.test", {"mx1.flaky.test", "mx2.flaky.test"}));
  EXPECT_EQ(result.reach, MailHostReach::no_answer) << describe(result.reach);
  EXPECT_TRUE(has_warning(result, "SERVFAIL")) << warnings_of(result);
}

TEST_F(SmtpProberTest, ReachIsOffLimitsWhenOnlyRefusedAddressesRemain) {
  ScriptedSmtpServer* server = start_server("127.0.0.2", kBasicScenario);
  ASSERT_NE(server, nullptr);
  dns["mx2.example.test"] = {"127.0.0.2"};  // mx1.example.test: NXDOMAIN
  options.address_policy.allow_private_networks = false;
  make_prober();
  const ProbeResult result =
      probe(request("alice@example.test", {"mx1.example.test", "mx2.example.test"}));
  EXPECT_EQ(result.reach, MailHostReach::off_limits) << describe(result.reach);
  EXPECT_TRUE(has_warning(result, "refused to connect to 127.0.0.2")) << warnings_of(result);
  EXPECT_TRUE(server->connections().empty());
}

TEST_F(SmtpProberTest, ReachIsRefusedWhenEveryHostRefusesEveryAttempt) {
  // A live server fixes the port; nothing listens on 127.0.0.2 or .3 at it.
  ASSERT_NE(start_server("127.0.0.9", kBasicScenario), nullptr);
  dns["mx1.refused.test"] = {"127.0.0.2"};
  dns["mx2.refused.test"] = {"127.0.0.3", "127.0.0.4"};  // both addresses refuse
  make_prober();
  // Three attempts: mx1, mx2, then mx1 again, refused each time.
  const ProbeResult result = probe(
      request("x@refused.test", {"mx1.refused.test", "mx2.refused.test"}, {200ms, 200ms, 200ms}));
  EXPECT_EQ(result.outcome, SmtpOutcome::inconclusive);
  EXPECT_EQ(result.reach, MailHostReach::refused) << describe(result.reach) << warnings_of(result);
  EXPECT_FALSE(result.port25_known_working);
  EXPECT_FALSE(prober->outbound_state().blocked);  // two distinct hosts only
}

TEST_F(SmtpProberTest, ReachIsRefusedWhenTheGreetingIsNotSmtp) {
  ASSERT_NE(start_server("127.0.0.2", R"({"banner": {"raw": "HTTP/1.1 400 Bad Request\r\n"}})"),
            nullptr);
  dns["mx.web.test"] = {"127.0.0.2"};
  make_prober();
  const ProbeResult result = probe(request("x@web.test", {"mx.web.test"}));
  EXPECT_TRUE(has_warning(result, "does not start with a 3-digit code")) << warnings_of(result);
  EXPECT_EQ(result.reach, MailHostReach::refused) << describe(result.reach);
  EXPECT_TRUE(result.port25_known_working);  // the TCP connection itself worked
}

TEST_F(SmtpProberTest, ReachIsNoAnswerWhenTheServerNeverGreets) {
  ASSERT_NE(start_server("127.0.0.2", R"({"banner_delay_ms": -1})"), nullptr);
  dns["mx.tarpit.test"] = {"127.0.0.2"};
  make_prober();
  const ProbeResult result = probe(request("x@tarpit.test", {"mx.tarpit.test"}, {150ms, 150ms}));
  EXPECT_TRUE(has_warning(result, "timeout")) << warnings_of(result);
  EXPECT_EQ(result.reach, MailHostReach::no_answer) << describe(result.reach);
  EXPECT_TRUE(result.port25_known_working);
}

TEST_F(SmtpProberTest, ReachIsNoAnswerForARefusalMixedWithATimeout) {
  ASSERT_NE(start_server("127.0.0.3", R"({"banner_delay_ms": -1})"), nullptr);
  dns["mx1.mixed.test"] = {"127.0.0.2"};  // refuses
  dns["mx2.mixed.test"] = {"127.0.0.3"};  // never greets
  make_prober();
  const ProbeResult result =
      probe(request("x@mixed.test", {"mx1.mixed.test", "mx2.mixed.test"}, {150ms, 150ms}));
  EXPECT_EQ(result.reach, MailHostReach::no_answer) << describe(result.reach);
}

TEST_F(SmtpProberTest, ReachIsNoAnswerWhileTheBreakerIsOpen) {
  ScriptedSmtpServer* server = start_server("127.0.0.2", kBasicScenario);
  ASSERT_NE(server, nullptr);
  dns["mx.example.test"] = {"127.0.0.2"};
  make_prober();
  prober->restore_breaker("mx.example.test", 5000ms);
  const ProbeResult result = probe(request("alice@example.test", {"mx.example.test"}));
  EXPECT_TRUE(has_warning(result, "circuit breaker open")) << warnings_of(result);
  EXPECT_EQ(result.reach, MailHostReach::no_answer) << describe(result.reach);
  EXPECT_TRUE(server->connections().empty());
}

// ----------------------------------------------------- outbound port 25 ---

class OutboundPort25Test : public SmtpProberFixture {
 protected:
  // A live server at 127.0.0.9 fixes the port; nothing listens on
  // 127.0.0.2-4 there until a test starts a server.
  void SetUp() override {
    live = start_server("127.0.0.9", kBasicScenario);
    ASSERT_NE(live, nullptr);
    dns["mx.example.test"] = {"127.0.0.9"};
    dns["mx1.blocked.test"] = {"127.0.0.2"};
    dns["mx2.blocked.test"] = {"127.0.0.3"};
    dns["mx3.blocked.test"] = {"127.0.0.4"};
    options.outbound_health.retry_interval = 500ms;
  }

  // One job over the three refusing hosts, one attempt each.
  ProbeResult probe_refusing_hosts() {
    return probe(request("x@blocked.test",
                         {"mx1.blocked.test", "mx2.blocked.test", "mx3.blocked.test"},
                         {200ms, 200ms, 200ms}));
  }

  ScriptedSmtpServer* live = nullptr;
};

TEST_F(OutboundPort25Test, ThreeRefusingHostsMeanBlockedUntilAConnectionSucceeds) {
  options.outbound_health.retry_interval = 1500ms;  // leaves time to start a server meanwhile
  make_prober();
  EXPECT_FALSE(prober->outbound_state().blocked);

  const ProbeResult refused = probe_refusing_hosts();
  EXPECT_EQ(refused.outcome, SmtpOutcome::inconclusive);
  EXPECT_EQ(refused.reach, MailHostReach::port25_blocked) << describe(refused.reach);
  EXPECT_TRUE(has_warning(refused, kPort25BlockedWarning)) << warnings_of(refused);
  EXPECT_FALSE(refused.port25_known_working);
  SmtpProber::OutboundState state = prober->outbound_state();
  EXPECT_TRUE(state.blocked);
  EXPECT_EQ(state.episodes, 1u);
  EXPECT_FALSE(state.known_working);

  // mx1 starts accepting, but within the retry interval nothing is tried.
  ScriptedSmtpServer* revived = start_server("127.0.0.2", kBasicScenario);
  ASSERT_NE(revived, nullptr);
  const auto started = std::chrono::steady_clock::now();
  const ProbeResult held = probe_refusing_hosts();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 200ms);  // failed fast
  EXPECT_EQ(held.reach, MailHostReach::port25_blocked) << describe(held.reach);
  EXPECT_TRUE(has_warning(held, kPort25BlockedWarning)) << warnings_of(held);
  EXPECT_TRUE(revived->connections().empty());
  EXPECT_TRUE(prober->outbound_state().blocked);

  // After the interval one attempt goes through; it succeeds: not blocked.
  std::this_thread::sleep_for(1550ms);
  const ProbeResult allowed = probe_refusing_hosts();
  EXPECT_EQ(allowed.reach, MailHostReach::answered)
      << describe(allowed.reach) << warnings_of(allowed);
  EXPECT_EQ(allowed.outcome, SmtpOutcome::does_not_exist) << warnings_of(allowed);
  EXPECT_FALSE(has_warning(allowed, kPort25BlockedWarning)) << warnings_of(allowed);
  EXPECT_TRUE(allowed.port25_known_working);
  EXPECT_EQ(revived->connections().size(), 1u);
  state = prober->outbound_state();
  EXPECT_FALSE(state.blocked);
  EXPECT_EQ(state.episodes, 1u);
  EXPECT_TRUE(state.known_working);
  EXPECT_GT(state.last_success, std::chrono::system_clock::now() - 5s);
  EXPECT_LE(state.last_success, std::chrono::system_clock::now());

  // Live hosts are reached at once again.
  const ProbeResult later = probe(request("alice@example.test", {"mx.example.test"}));
  EXPECT_EQ(later.outcome, SmtpOutcome::exists) << warnings_of(later);
}

TEST_F(OutboundPort25Test, WhileBlockedOneNewConnectionPerInterval) {
  ASSERT_NE(start_server("127.0.0.5", kBasicScenario), nullptr);
  dns["mx.other.test"] = {"127.0.0.5"};
  make_prober();
  ASSERT_EQ(probe_refusing_hosts().reach, MailHostReach::port25_blocked);
  std::this_thread::sleep_for(550ms);

  // Two live hosts asked at once: one new connection is let through.
  std::vector<ProbeRequest> requests;
  requests.push_back(request("alice@example.test", {"mx.example.test"}));
  requests.push_back(request("alice@other.test", {"mx.other.test"}));
  const std::vector<ProbeResult> results = probe_all(std::move(requests));
  int answered = 0;
  int held = 0;
  for (const ProbeResult& result : results) {
    if (result.reach == MailHostReach::answered) ++answered;
    if (result.reach == MailHostReach::port25_blocked && has_warning(result, kPort25BlockedWarning))
      ++held;
  }
  EXPECT_EQ(answered, 1);
  EXPECT_EQ(held, 1);
  // That connection worked: the held host is reached on the next try.
  EXPECT_FALSE(prober->outbound_state().blocked);
  const ProbeResult retried = probe(request("alice@other.test", {"mx.other.test"}));
  EXPECT_EQ(retried.reach, MailHostReach::answered) << warnings_of(retried);
}

TEST_F(OutboundPort25Test, IdleSessionsAreReusedWhileBlocked) {
  make_prober();
  const ProbeResult first = probe(request("alice@example.test", {"mx.example.test"}));
  ASSERT_EQ(first.outcome, SmtpOutcome::exists) << warnings_of(first);
  ASSERT_EQ(probe_refusing_hosts().reach, MailHostReach::port25_blocked);
  ASSERT_TRUE(prober->outbound_state().blocked);

  const ProbeResult reused = probe(request("bob@example.test", {"mx.example.test"}));
  EXPECT_EQ(reused.outcome, SmtpOutcome::does_not_exist) << warnings_of(reused);
  EXPECT_EQ(reused.reach, MailHostReach::answered);
  EXPECT_FALSE(has_warning(reused, kPort25BlockedWarning)) << warnings_of(reused);
  EXPECT_TRUE(reused.port25_known_working);  // the first connection was moments ago
  EXPECT_EQ(live->connections().size(), 1u);
  EXPECT_TRUE(prober->outbound_state().blocked);  // no new connection said otherwise
}

TEST_F(OutboundPort25Test, UnresolvableHostsStayNoAddressWhileBlocked) {
  make_prober();
  ASSERT_EQ(probe_refusing_hosts().reach, MailHostReach::port25_blocked);
  const ProbeResult result = probe(request("x@gone.test", {"mx.gone.test"}));
  EXPECT_EQ(result.reach, MailHostReach::no_address) << describe(result.reach);
}

}  // namespace
}  // namespace mailsentry
