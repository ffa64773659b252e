// Bulk probing: many addresses for one MX host share sessions and
// transactions; each domain's catch-all status is probed once. The planner
// alone, then the prober against scripted servers (their transcripts say
// what went over the wire).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "net/smtp_batch.hpp"
#include "smtp_prober_fixture.hpp"

namespace mailsentry {
namespace {

using namespace prober_test;
using scripted_smtp::Transaction;

// ------------------------------------------------------------ planner ---

BatchCandidate candidate(const std::string& domain, bool wants_probe = false,
                         bool smtputf8 = false) {
  BatchCandidate c;
  c.domain = domain;
  c.wants_probe = wants_probe;
  c.smtputf8 = smtputf8;
  return c;
}

TEST(BatchPlanner, TakesInOrderUpToTheBudget) {
  BatchPlanner planner(3);
  EXPECT_EQ(planner.offer(candidate("a.test")), BatchTake::rcpt);
  EXPECT_EQ(planner.offer(candidate("b.test")), BatchTake::rcpt);
  EXPECT_FALSE(planner.full());
  EXPECT_EQ(planner.offer(candidate("a.test")), BatchTake::rcpt);
  EXPECT_TRUE(planner.full());
  EXPECT_EQ(planner.offer(candidate("a.test")), BatchTake::stop);
  EXPECT_EQ(planner.recipients(), 3);
}

TEST(BatchPlanner, OneProbePerDomainAndNoneWhileOneIsInFlight) {
  BatchPlanner planner(10);
  EXPECT_EQ(planner.offer(candidate("a.test", true)), BatchTake::rcpt_and_probe);
  EXPECT_EQ(planner.offer(candidate("a.test", true)), BatchTake::rcpt);  // shares the probe
  EXPECT_EQ(planner.offer(candidate("b.test", true)), BatchTake::rcpt_and_probe);
  BatchCandidate busy = candidate("c.test", true);
  busy.probe_in_flight = true;  // another transaction probes c.test
  EXPECT_EQ(planner.offer(busy), BatchTake::rcpt);
  EXPECT_EQ(planner.recipients(), 6);
}

TEST(BatchPlanner, ProbeOnlyCandidates) {
  BatchPlanner planner(4);
  BatchCandidate only = candidate("a.test", true);
  only.needs_rcpt = false;
  EXPECT_EQ(planner.offer(only), BatchTake::probe);
  EXPECT_EQ(planner.offer(only), BatchTake::attach);  // the probe is in this batch already
  BatchCandidate elsewhere = candidate("b.test", true);
  elsewhere.needs_rcpt = false;
  elsewhere.probe_in_flight = true;
  EXPECT_EQ(planner.offer(elsewhere), BatchTake::attach);
  EXPECT_EQ(planner.recipients(), 1);
}

TEST(BatchPlanner, OneSmtputf8NeedPerTransaction) {
  BatchPlanner planner(10);
  EXPECT_EQ(planner.offer(candidate("a.test", false, true)), BatchTake::rcpt);
  EXPECT_EQ(planner.offer(candidate("a.test", false, false)), BatchTake::skip);
  EXPECT_EQ(planner.offer(candidate("b.test", false, true)), BatchTake::rcpt);
  BatchCandidate probe_only = candidate("c.test", true, false);
  probe_only.needs_rcpt = false;  // probe addresses are ASCII: they fit either way
  EXPECT_EQ(planner.offer(probe_only), BatchTake::probe);
  EXPECT_TRUE(planner.smtputf8());
}

TEST(BatchPlanner, RecipientsJoinTheOpenTransactionsSmtputf8Need) {
  BatchPlanner ascii_open(5, false);  // a stream's transaction without SMTPUTF8 is open
  EXPECT_EQ(ascii_open.offer(candidate("a.test", false, true)), BatchTake::skip);
  EXPECT_EQ(ascii_open.offer(candidate("a.test", false, false)), BatchTake::rcpt);
  EXPECT_FALSE(ascii_open.smtputf8());
  BatchPlanner utf8_open(1, true);
  EXPECT_EQ(utf8_open.offer(candidate("a.test", false, false)), BatchTake::skip);
  BatchCandidate probe_only = candidate("b.test", true, false);
  probe_only.needs_rcpt = false;
  EXPECT_EQ(utf8_open.offer(probe_only), BatchTake::probe);  // ASCII fits either need
  EXPECT_TRUE(utf8_open.full());
  EXPECT_TRUE(utf8_open.smtputf8());
}

TEST(BatchPlanner, AtLeastOneRecipientEvenWhenItsProbeDoesNotFit) {
  BatchPlanner one(1);
  EXPECT_EQ(one.offer(candidate("a.test", true)), BatchTake::rcpt);  // the probe waits
  EXPECT_TRUE(one.full());
  BatchPlanner zero(0);  // a budget below one still carries one
  EXPECT_EQ(zero.offer(candidate("a.test")), BatchTake::rcpt);
  BatchPlanner two(2);
  EXPECT_EQ(two.offer(candidate("a.test")), BatchTake::rcpt);
  EXPECT_EQ(two.offer(candidate("b.test", true)), BatchTake::stop);  // no overtaking
}

// ------------------------------------------------- against a server ---

class SmtpBatchingTest : public SmtpProberFixture {
 protected:
  // user<i>@d<i % domains>.test, every one listed as existing.
  static std::vector<std::string> addresses(int count, int domains) {
    std::vector<std::string> all;
    for (int i = 0; i < count; ++i)
      all.push_back("user" + std::to_string(i) + "@d" + std::to_string(i % domains) + ".test");
    return all;
  }

  static std::string listing(const std::vector<std::string>& existing) {
    std::string json;
    for (const std::string& address : existing) {
      if (!json.empty()) json += ",";
      json += "\"" + address + "\": [250, \"2.1.5 OK\"]";
    }
    return "{" + json + "}";
  }

  std::vector<ProbeRequest> requests_for(const std::vector<std::string>& all,
                                         std::vector<std::chrono::milliseconds> timeouts = {
                                             1500ms, 2500ms, 3500ms}) {
    std::vector<ProbeRequest> requests;
    for (const std::string& address : all)
      requests.push_back(request(address, {"mx.shared.test"}, timeouts));
    return requests;
  }

  // RCPTs per recipient, and catch-all probes (recipients not in `known`) per domain.
  static void count_rcpts(const ScriptedSmtpServer& server, const std::vector<std::string>& known,
                          std::map<std::string, int>& per_address,
                          std::map<std::string, int>& probes_per_domain) {
    const std::set<std::string> listed(known.begin(), known.end());
    for (const ServerEvent& line : server.client_lines("RCPT")) {
      const std::string address = scripted_smtp::rcpt_address(line.text);
      if (listed.count(address)) {
        ++per_address[address];
      } else {
        ++probes_per_domain[address.substr(address.find('@') + 1)];
      }
    }
  }
};

TEST_F(SmtpBatchingTest, AddressesOfOneHostShareSessionsAndTransactions) {
  const std::vector<std::string> all = addresses(40, 4);
  ScriptedSmtpServer* server = start_server(
      "127.0.0.2", R"({"capabilities": ["PIPELINING"], "recipients": )" + listing(all) + "}");
  ASSERT_NE(server, nullptr);
  dns["mx.shared.test"] = {"127.0.0.2"};
  options.max_connections_per_mx = 2;
  make_prober();

  const std::vector<ProbeResult> results = probe_all(requests_for(all));
  for (std::size_t i = 0; i < results.size(); ++i) {
    EXPECT_EQ(results[i].outcome, SmtpOutcome::exists) << all[i] << warnings_of(results[i]);
    EXPECT_EQ(results[i].catch_all, false) << all[i];
    // Each job carries the transcript of the transaction that asked for it.
    EXPECT_TRUE(transcript_has(results[i], "C: RCPT TO:<" + all[i] + ">")) << all[i];
  }
  EXPECT_LE(server->connections().size(), 2u);
  EXPECT_LE(server->max_concurrent_connections(), 2);

  std::map<std::string, int> per_address;
  std::map<std::string, int> probes;
  count_rcpts(*server, all, per_address, probes);
  EXPECT_EQ(per_address.size(), all.size());
  for (const auto& [address, count] : per_address) EXPECT_EQ(count, 1) << address;
  ASSERT_EQ(probes.size(), 4u);  // exactly one catch-all probe per domain
  for (const auto& [domain, count] : probes) EXPECT_EQ(count, 1) << domain;

  // A transaction carries min(recipients left, rejections left) RCPTs; at
  // most the 4 probes are rejected, so every full one carries at least 8 - 4.
  const int per_transaction = options.max_rejections_per_session - 4;
  const int rcpts = 40 + 4;
  const std::size_t mails = server->client_lines("MAIL").size();
  EXPECT_LE(mails, static_cast<std::size_t>((rcpts + per_transaction - 1) / per_transaction));
  EXPECT_LT(mails, all.size());
}

TEST_F(SmtpBatchingTest, RejectionBudgetPerSessionIsHonoured) {
  ScriptedSmtpServer* server = start_server("127.0.0.2", R"({
    "capabilities": ["PIPELINING"],
    "rcpt_all": [550, "5.1.1 No such user"]
  })");
  ASSERT_NE(server, nullptr);
  dns["mx.shared.test"] = {"127.0.0.2"};
  options.max_connections_per_mx = 2;
  options.max_rejections_per_session = 3;
  make_prober();

  const std::vector<std::string> all = addresses(30, 3);
  for (const ProbeResult& result : probe_all(requests_for(all))) {
    EXPECT_EQ(result.outcome, SmtpOutcome::does_not_exist) << warnings_of(result);
  }
  std::map<int, int> rejected_per_connection;  // every RCPT is rejected here
  for (const ServerEvent& line : server->client_lines("RCPT")) ++rejected_per_connection[line.conn];
  for (const auto& [conn, count] : rejected_per_connection) {
    EXPECT_LE(count, options.max_rejections_per_session) << "connection " << conn;
  }
  std::map<std::string, int> per_address;
  std::map<std::string, int> probes;
  count_rcpts(*server, all, per_address, probes);
  EXPECT_EQ(per_address.size(), all.size());
  for (const auto& [address, count] : per_address) EXPECT_EQ(count, 1) << address;
  for (const auto& [domain, count] : probes) EXPECT_EQ(count, 1) << domain;
  EXPECT_LT(server->client_lines("MAIL").size(), all.size());
  EXPECT_LE(server->max_concurrent_connections(), 2);
}

TEST_F(SmtpBatchingTest, Smtputf8AndAsciiRecipientsNeverShareAMailFrom) {
  std::vector<std::string> utf8;
  std::vector<std::string> ascii;
  for (int i = 0; i < 10; ++i) {
    utf8.push_back("j\xc3\xb6rg" + std::to_string(i) + "@d0.test");
    ascii.push_back("joerg" + std::to_string(i) + "@d0.test");
  }
  std::vector<std::string> all = utf8;
  all.insert(all.end(), ascii.begin(), ascii.end());
  ScriptedSmtpServer* server =
      start_server("127.0.0.2", R"({"capabilities": ["PIPELINING", "SMTPUTF8"], "recipients": )" +
                                    listing(all) + "}");
  ASSERT_NE(server, nullptr);
  dns["mx.shared.test"] = {"127.0.0.2"};
  options.max_connections_per_mx = 1;
  make_prober();

  std::vector<ProbeRequest> requests;
  for (int i = 0; i < 10; ++i) {  // interleaved, so that FIFO alone would mix them
    requests.push_back(request(utf8[i], {"mx.shared.test"}));
    requests.back().needs_smtputf8 = true;
    requests.push_back(request(ascii[i], {"mx.shared.test"}));
  }
  for (const ProbeResult& result : probe_all(std::move(requests))) {
    EXPECT_EQ(result.outcome, SmtpOutcome::exists) << warnings_of(result);
  }
  const std::set<std::string> utf8_set(utf8.begin(), utf8.end());
  const std::set<std::string> ascii_set(ascii.begin(), ascii.end());
  const std::vector<Transaction> transactions = server->transactions();
  for (const Transaction& transaction : transactions) {
    const bool smtputf8 = transaction.mail.find(" SMTPUTF8") != std::string::npos;
    for (const std::string& recipient : transaction.recipients) {
      if (utf8_set.count(recipient)) {
        EXPECT_TRUE(smtputf8) << recipient << " in " << transaction.mail;
      }
      if (ascii_set.count(recipient)) {
        EXPECT_FALSE(smtputf8) << recipient << " in " << transaction.mail;
      }
    }
  }
  EXPECT_LT(transactions.size(), all.size());
  std::map<std::string, int> per_address;
  std::map<std::string, int> probes;
  count_rcpts(*server, all, per_address, probes);
  EXPECT_EQ(per_address.size(), all.size());
  EXPECT_EQ(probes["d0.test"], 1);
}

TEST_F(SmtpBatchingTest, PipelinedBatchesBeatOneReplyPerAddress) {
  // Each command is answered 20 ms after it arrives; pipelined ones overlap.
  const std::vector<std::string> all = addresses(200, 2);
  ScriptedSmtpServer* server = start_server(
      "127.0.0.2",
      R"({"capabilities": ["PIPELINING"], "reply_timing": "arrival", "delays_ms": {"*": 20},
          "recipients": )" +
          listing(all) + "}");
  ASSERT_NE(server, nullptr);
  dns["mx.shared.test"] = {"127.0.0.2"};
  options.max_connections_per_mx = 2;
  make_prober();

  for (const ProbeResult& result : probe_all(requests_for(all), 30s)) {
    EXPECT_EQ(result.outcome, SmtpOutcome::exists) << warnings_of(result);
  }
  const std::vector<ServerEvent> mails = server->client_lines("MAIL");
  const std::vector<ServerEvent> rcpts = server->client_lines("RCPT");
  ASSERT_FALSE(mails.empty());
  ASSERT_FALSE(rcpts.empty());
  // From the first MAIL FROM to the last reply, on the server's clock.
  double last_reply = 0;
  for (const ServerEvent& event : server->events()) {
    if (event.dir == "S") last_reply = std::max(last_reply, event.t);
  }
  const double span = last_reply - mails.front().t;
  const double one_reply_per_address = 200 * 0.020 / 2;  // 2 s over 2 sessions
  EXPECT_LT(span, one_reply_per_address / 2) << "span " << span << " s";
  EXPECT_GT(server->overlapping_commands(), 100);  // the RCPTs went out pipelined
  EXPECT_LE(server->max_concurrent_connections(), 2);
  EXPECT_EQ(rcpts.size(), all.size() + 2);  // and one probe per domain
}

TEST_F(SmtpBatchingTest, CatchAllDomainMakesEveryExistsInconclusive) {
  ScriptedSmtpServer* server =
      start_server("127.0.0.2", R"({"capabilities": ["PIPELINING"], "catch_all": true})");
  ASSERT_NE(server, nullptr);
  dns["mx.shared.test"] = {"127.0.0.2"};
  options.max_connections_per_mx = 2;
  make_prober();

  const std::vector<std::string> all = addresses(30, 3);
  const std::vector<ProbeResult> results = probe_all(requests_for(all));
  for (std::size_t i = 0; i < results.size(); ++i) {
    EXPECT_EQ(results[i].outcome, SmtpOutcome::inconclusive) << all[i] << warnings_of(results[i]);
    EXPECT_EQ(results[i].catch_all, true) << all[i];
    EXPECT_EQ(results[i].code, 250) << all[i];
  }
  std::map<std::string, int> per_address;
  std::map<std::string, int> probes;
  count_rcpts(*server, all, per_address, probes);
  EXPECT_EQ(per_address.size(), all.size());
  for (const auto& [address, count] : per_address) EXPECT_EQ(count, 1) << address;
  ASSERT_EQ(probes.size(), 3u);
  for (const auto& [domain, count] : probes) EXPECT_EQ(count, 1) << domain;
}

TEST_F(SmtpBatchingTest, ExistsWaitsForTheProbeInFlightOnAnotherSession) {
  // No PIPELINING, 40 ms per RCPT: the first session's batch (7 addresses and
  // the probe) takes 320 ms, the second's (3 addresses) 120 ms, so the second
  // has its "exists" answers long before the probe's answer.
  ScriptedSmtpServer* server =
      start_server("127.0.0.2", R"({"catch_all": true, "delays_ms": {"RCPT": 40}})");
  ASSERT_NE(server, nullptr);
  dns["mx.shared.test"] = {"127.0.0.2"};
  options.max_connections_per_mx = 2;
  make_prober();

  const std::vector<std::string> all = addresses(10, 1);
  for (const ProbeResult& result : probe_all(requests_for(all))) {
    EXPECT_EQ(result.outcome, SmtpOutcome::inconclusive) << warnings_of(result);
    EXPECT_EQ(result.catch_all, true);
  }
  const std::set<std::string> listed(all.begin(), all.end());
  int probe_conn = 0;
  double probe_answered = 0;
  double other_answered = 1e18;  // first RCPT reply on the session without the probe
  std::map<int, std::string> last_command;
  for (const ServerEvent& event : server->events()) {
    if (event.dir == "C") last_command[event.conn] = event.text;
    if (event.dir != "S" || last_command[event.conn].rfind("RCPT", 0) != 0) continue;
    if (!listed.count(scripted_smtp::rcpt_address(last_command[event.conn]))) {
      probe_conn = event.conn;
      probe_answered = event.t;
    }
  }
  ASSERT_NE(probe_conn, 0);
  for (const ServerEvent& event : server->events()) {
    if (event.dir == "C") last_command[event.conn] = event.text;
    if (event.dir == "S" && event.conn != probe_conn &&
        last_command[event.conn].rfind("RCPT", 0) == 0)
      other_answered = std::min(other_answered, event.t);
  }
  EXPECT_LT(other_answered, probe_answered) << "the scenario did not make any job wait";
  std::map<std::string, int> per_address;
  std::map<std::string, int> probes;
  count_rcpts(*server, all, per_address, probes);
  EXPECT_EQ(probes["d0.test"], 1);
}

TEST_F(SmtpBatchingTest, ProbeThatDoesNotFitFollowsInALaterTransaction) {
  // One recipient per batch: an "exists" waits for its domain's probe, which
  // goes alone in the next batch (joining the transaction kept open); the
  // other jobs wait for it.
  // (Batches: PIPELINING. Without it, RCPTs stream one at a time in one
  // transaction, and nothing has to "fit": see the WithoutPipelining tests.)
  ScriptedSmtpServer* server =
      start_server("127.0.0.2", R"({"capabilities": ["PIPELINING"], "catch_all": true})");
  ASSERT_NE(server, nullptr);
  dns["mx.shared.test"] = {"127.0.0.2"};
  options.max_connections_per_mx = 1;
  options.max_rejections_per_session = 1;
  make_prober();

  const std::vector<std::string> all = addresses(3, 1);
  for (const ProbeResult& result : probe_all(requests_for(all))) {
    EXPECT_EQ(result.outcome, SmtpOutcome::inconclusive) << warnings_of(result);
    EXPECT_EQ(result.catch_all, true);
  }
  // The batches of one recipient each join the one transaction the session
  // keeps open (no RSET, no new MAIL FROM): 3 addresses and the probe.
  ASSERT_EQ(server->transactions().size(), 1u);
  EXPECT_EQ(server->transactions().front().recipients.size(), 4u);
  EXPECT_EQ(server->client_lines("RSET").size(), 0u);
  std::map<std::string, int> per_address;
  std::map<std::string, int> probes;
  count_rcpts(*server, all, per_address, probes);
  EXPECT_EQ(per_address.size(), 3u);
  EXPECT_EQ(probes["d0.test"], 1);
}

TEST_F(SmtpBatchingTest, ExtendedDepthProbesACatchAllAnswerAgainOnce) {
  ScriptedSmtpServer* server =
      start_server("127.0.0.2", R"({"capabilities": ["PIPELINING"], "catch_all": true})");
  ASSERT_NE(server, nullptr);
  dns["mx.shared.test"] = {"127.0.0.2"};
  options.max_connections_per_mx = 1;
  make_prober();

  const std::vector<std::string> all = addresses(3, 1);
  std::vector<ProbeRequest> requests = requests_for(all);
  for (ProbeRequest& request : requests) {
    request.settings.extended = true;
    request.settings.greylist_retry_delay = 100ms;
  }
  for (const ProbeResult& result : probe_all(std::move(requests))) {
    EXPECT_EQ(result.outcome, SmtpOutcome::inconclusive) << warnings_of(result);
    EXPECT_EQ(result.catch_all, true);
    EXPECT_TRUE(has_warning(result, "catch-all answer by mx.shared.test")) << warnings_of(result);
  }
  std::map<std::string, int> per_address;
  std::map<std::string, int> probes;
  count_rcpts(*server, all, per_address, probes);
  for (const std::string& address : all) EXPECT_EQ(per_address[address], 2) << address;
  // The retries ask for a fresh probe (not the memory) and share it.
  EXPECT_GE(probes["d0.test"], 2);
  EXPECT_LE(probes["d0.test"], 3);
}

TEST_F(SmtpBatchingTest, BatchTimeoutRetriesEveryJob) {
  const std::vector<std::string> all = addresses(6, 1);
  // RCPT replies take 300 ms: the first attempt (150 ms) times out, the second (1 s) does not.
  ScriptedSmtpServer* server =
      start_server("127.0.0.2", R"({"capabilities": ["PIPELINING"], "reply_timing": "arrival",
                       "delays_ms": {"RCPT": 300}, "recipients": )" +
                                    listing(all) + "}");
  ASSERT_NE(server, nullptr);
  dns["mx.shared.test"] = {"127.0.0.2"};
  options.max_connections_per_mx = 1;
  options.breaker_failure_threshold = 100;
  make_prober();

  for (const ProbeResult& result : probe_all(requests_for(all, {150ms, 1000ms}))) {
    EXPECT_EQ(result.outcome, SmtpOutcome::exists) << warnings_of(result);
    EXPECT_EQ(result.catch_all, false);
    EXPECT_TRUE(has_warning(result, "timeout after 150 ms")) << warnings_of(result);
  }
  std::map<std::string, int> per_address;
  std::map<std::string, int> probes;
  count_rcpts(*server, all, per_address, probes);
  for (const std::string& address : all) EXPECT_EQ(per_address[address], 2) << address;
  EXPECT_EQ(probes["d0.test"], 2);  // the first probe timed out with its batch
  EXPECT_EQ(server->client_lines("MAIL").size(), 2u);
  EXPECT_EQ(server->connections().size(), 2u);
}

// ------------------------------------------- streaming, no PIPELINING ---

class SmtpStreamingTest : public SmtpBatchingTest {
 protected:
  // user<i>@d<i % domains>.test; 60% exist: i exists when (i / domains) % 5 < 3.
  static void split(int count, int domains, std::vector<std::string>& all,
                    std::vector<std::string>& existing) {
    for (const std::string& address : addresses(count, domains)) {
      all.push_back(address);
      const int i = std::stoi(address.substr(4, address.find('@') - 4));
      if ((i / domains) % 5 < 3) existing.push_back(address);
    }
  }

  // MAIL FROM, RSET and RCPT lines per connection, in order.
  static std::map<int, std::vector<std::string>> verbs_per_connection(
      const ScriptedSmtpServer& server) {
    std::map<int, std::vector<std::string>> verbs;
    for (const ServerEvent& line : server.client_lines()) {
      const std::string verb = line.text.substr(0, 4);
      if (verb == "MAIL" || verb == "RSET" || verb == "RCPT") verbs[line.conn].push_back(verb);
    }
    return verbs;
  }
};

TEST_F(SmtpStreamingTest, OneMailFromCarriesRecipientsUntilTheRejectionBudgetIsSpent) {
  // 40% of the addresses do not exist; max_rejections_per_session 8 (the
  // default). RCPTs go one at a time, each after checking the rejections
  // received so far: a session carries about 20 recipients in one
  // transaction, not 8 per MAIL FROM with RSETs between.
  std::vector<std::string> all;
  std::vector<std::string> existing;
  split(120, 4, all, existing);
  ScriptedSmtpServer* server = start_server(
      "127.0.0.2", R"({"capabilities": ["8BITMIME"], "recipients": )" + listing(existing) + "}");
  ASSERT_NE(server, nullptr);
  dns["mx.shared.test"] = {"127.0.0.2"};
  options.max_connections_per_mx = 2;
  ASSERT_EQ(options.max_rejections_per_session, 8);
  ASSERT_EQ(options.max_recipients_per_session, 50);
  make_prober();

  const std::set<std::string> exists(existing.begin(), existing.end());
  const std::vector<ProbeResult> results = probe_all(requests_for(all), 30s);
  for (std::size_t i = 0; i < results.size(); ++i) {
    EXPECT_EQ(results[i].outcome,
              exists.count(all[i]) ? SmtpOutcome::exists : SmtpOutcome::does_not_exist)
        << all[i] << warnings_of(results[i]);
    EXPECT_TRUE(transcript_has(results[i], "C: RCPT TO:<" + all[i] + ">")) << all[i];
  }
  EXPECT_LE(server->max_concurrent_connections(), 2);

  // One MAIL FROM per session, no RSET, and every RCPT after that MAIL FROM.
  const std::map<int, std::vector<std::string>> verbs = verbs_per_connection(*server);
  for (const auto& [conn, sequence] : verbs) {
    ASSERT_FALSE(sequence.empty());
    EXPECT_EQ(sequence.front(), "MAIL") << "connection " << conn;
    EXPECT_EQ(std::count(sequence.begin(), sequence.end(), "MAIL"), 1) << "connection " << conn;
    EXPECT_EQ(std::count(sequence.begin(), sequence.end(), "RSET"), 0) << "connection " << conn;
  }
  EXPECT_TRUE(server->client_lines("RSET").empty());

  // No session gets more than 8 rejections, and none gets an RCPT after its
  // 8th: the budget is checked before each RCPT, against the replies so far.
  int sessions_at_the_cap = 0;
  std::size_t longest = 0;
  for (const auto& [conn, codes] : server->rcpt_reply_codes()) {
    const auto rejected = std::count_if(codes.begin(), codes.end(), [](int c) { return c >= 500; });
    EXPECT_LE(rejected, 8) << "connection " << conn;
    if (rejected == 8) {
      ++sessions_at_the_cap;
      EXPECT_GE(codes.back(), 500) << "an RCPT after the 8th rejection on connection " << conn;
      EXPECT_GT(codes.size(), 8u) << "connection " << conn;  // accepted ones cost no budget
    }
    longest = std::max(longest, codes.size());
  }
  EXPECT_GE(sessions_at_the_cap, 3);  // 48 addresses + probes rejected
  for (const Transaction& transaction : server->transactions())
    longest = std::max(longest, transaction.recipients.size());
  EXPECT_GE(longest, 15u);  // about 20 at 40% rejections

  // Every address once, one catch-all probe per domain.
  std::map<std::string, int> per_address;
  std::map<std::string, int> probes;
  count_rcpts(*server, all, per_address, probes);
  EXPECT_EQ(per_address.size(), all.size());
  for (const auto& [address, count] : per_address) EXPECT_EQ(count, 1) << address;
  EXPECT_EQ(probes.size(), 4u);
  for (const auto& [domain, count] : probes) EXPECT_EQ(count, 1) << domain;
  // A job that joined an open transaction says so in its transcript.
  int joined = 0;
  for (const ProbeResult& result : results)
    joined += transcript_has(
        result, "* joining the open transaction of MAIL FROM:<verify@mailsentry.test>");
  EXPECT_GT(joined, 60);
}

TEST_F(SmtpStreamingTest, EveryRejectionCountsBeforeTheNextRcpt) {
  ScriptedSmtpServer* server =
      start_server("127.0.0.2", R"({"rcpt_all": [550, "5.1.1 No such user"]})");
  ASSERT_NE(server, nullptr);
  dns["mx.shared.test"] = {"127.0.0.2"};
  options.max_connections_per_mx = 1;
  options.max_rejections_per_session = 3;
  make_prober();

  const std::vector<std::string> all = addresses(12, 2);
  for (const ProbeResult& result : probe_all(requests_for(all))) {
    EXPECT_EQ(result.outcome, SmtpOutcome::does_not_exist) << warnings_of(result);
  }
  const std::map<int, std::vector<int>> codes = server->rcpt_reply_codes();
  EXPECT_EQ(codes.size(), 4u);  // 12 rejections, 3 per session
  for (const auto& [conn, replies] : codes) EXPECT_LE(replies.size(), 3u) << conn;
  for (const auto& [conn, sequence] : verbs_per_connection(*server)) {
    EXPECT_EQ(std::count(sequence.begin(), sequence.end(), "MAIL"), 1) << conn;
  }
  EXPECT_TRUE(server->client_lines("RSET").empty());
  EXPECT_EQ(server->client_lines("RCPT").size(), all.size());  // no "exists": no probes
}

TEST_F(SmtpStreamingTest, TheRecipientCapEndsAStream) {
  std::vector<std::string> all = addresses(12, 1);
  ScriptedSmtpServer* server = start_server("127.0.0.2", R"({"recipients": )" + listing(all) + "}");
  ASSERT_NE(server, nullptr);
  dns["mx.shared.test"] = {"127.0.0.2"};
  options.max_connections_per_mx = 1;
  options.max_recipients_per_session = 5;
  make_prober();

  for (const ProbeResult& result : probe_all(requests_for(all))) {
    EXPECT_EQ(result.outcome, SmtpOutcome::exists) << warnings_of(result);
    EXPECT_EQ(result.catch_all, false);
  }
  for (const auto& [conn, sequence] : verbs_per_connection(*server)) {
    EXPECT_LE(std::count(sequence.begin(), sequence.end(), "RCPT"), 5) << conn;
    EXPECT_EQ(std::count(sequence.begin(), sequence.end(), "MAIL"), 1) << conn;
  }
  EXPECT_EQ(server->connections().size(), 3u);         // 12 addresses + 1 probe, 5 per session
  EXPECT_EQ(server->client_lines("QUIT").size(), 2u);  // the full ones; the last stays idle
}

TEST_F(SmtpStreamingTest, NewMailFromOnlyWhenTheSmtputf8NeedChanges) {
  std::vector<std::string> utf8;
  std::vector<std::string> ascii;
  for (int i = 0; i < 8; ++i) {
    utf8.push_back("j\xc3\xb6rg" + std::to_string(i) + "@d0.test");
    ascii.push_back("joerg" + std::to_string(i) + "@d0.test");
  }
  std::vector<std::string> all = utf8;
  all.insert(all.end(), ascii.begin(), ascii.end());
  ScriptedSmtpServer* server = start_server(
      "127.0.0.2", R"({"capabilities": ["SMTPUTF8"], "recipients": )" + listing(all) + "}");
  ASSERT_NE(server, nullptr);
  dns["mx.shared.test"] = {"127.0.0.2"};
  options.max_connections_per_mx = 1;
  make_prober();

  std::vector<ProbeRequest> requests;
  for (int i = 0; i < 8; ++i) {  // interleaved: FIFO alone would switch needs 15 times
    requests.push_back(request(utf8[i], {"mx.shared.test"}));
    requests.back().needs_smtputf8 = true;
    requests.push_back(request(ascii[i], {"mx.shared.test"}));
  }
  for (const ProbeResult& result : probe_all(std::move(requests))) {
    EXPECT_EQ(result.outcome, SmtpOutcome::exists) << warnings_of(result);
  }
  const std::set<std::string> utf8_set(utf8.begin(), utf8.end());
  const std::set<std::string> ascii_set(ascii.begin(), ascii.end());
  const std::vector<Transaction> transactions = server->transactions();
  for (const Transaction& transaction : transactions) {
    const bool smtputf8 = transaction.mail.find(" SMTPUTF8") != std::string::npos;
    for (const std::string& recipient : transaction.recipients) {
      if (utf8_set.count(recipient)) {
        EXPECT_TRUE(smtputf8) << recipient;
      }
      if (ascii_set.count(recipient)) {
        EXPECT_FALSE(smtputf8) << recipient;
      }
    }
  }
  // One transaction per need on the one session; the RSET comes with the change.
  ASSERT_EQ(transactions.size(), 2u);
  EXPECT_NE(transactions[0].mail, transactions[1].mail);
  EXPECT_EQ(transactions[0].conn, transactions[1].conn);
  EXPECT_EQ(server->client_lines("RSET").size(), 1u);
  EXPECT_EQ(server->connections().size(), 1u);
  std::map<std::string, int> per_address;
  std::map<std::string, int> probes;
  count_rcpts(*server, all, per_address, probes);
  EXPECT_EQ(per_address.size(), all.size());
  EXPECT_EQ(probes["d0.test"], 1);
}

TEST_F(SmtpStreamingTest, ShutdownMidStreamAnswersEveryJobOnce) {
  std::vector<std::string> all = addresses(10, 1);
  ScriptedSmtpServer* server = start_server(
      "127.0.0.2", R"({"delays_ms": {"RCPT": 80}, "recipients": )" + listing(all) + "}");
  ASSERT_NE(server, nullptr);
  dns["mx.shared.test"] = {"127.0.0.2"};
  options.max_connections_per_mx = 1;
  make_prober();

  std::vector<int> calls(all.size(), 0);
  int answered = 0;
  int shut = 0;
  for (std::size_t i = 0; i < all.size(); ++i) {
    prober->probe(request(all[i], {"mx.shared.test"}), [&, i](ProbeResult result) {
      ++calls[i];
      if (result.outcome == SmtpOutcome::exists) ++answered;
      if (has_warning(result, "prober shut down")) ++shut;
    });
  }
  run_for(400ms);  // a few RCPTs into the stream (80 ms each)
  ASSERT_FALSE(server->client_lines("RCPT").empty());
  prober->shutdown();
  run_for(300ms);
  for (std::size_t i = 0; i < all.size(); ++i) EXPECT_EQ(calls[i], 1) << all[i];
  EXPECT_GT(answered, 0);
  EXPECT_GT(shut, 0);
  EXPECT_EQ(answered + shut, static_cast<int>(all.size()));
  const std::size_t rcpts = server->client_lines("RCPT").size();
  run_for(300ms);
  EXPECT_EQ(server->client_lines("RCPT").size(), rcpts);  // nothing sent after the shutdown
}

TEST_F(SmtpBatchingTest, RememberedCatchAllStatusSkipsTheProbe) {
  ScriptedSmtpServer* server = start_server("127.0.0.2", R"({
    "recipients": {"alice@known.test": [250, "2.1.5 OK"], "bob@plain.test": [250, "2.1.5 OK"]}
  })");
  ASSERT_NE(server, nullptr);
  dns["mx.shared.test"] = {"127.0.0.2"};
  make_prober();
  prober->remember_catch_all("Known.TEST", true, std::chrono::hours(1));
  prober->remember_catch_all("plain.test", false, std::chrono::hours(1));

  const ProbeResult alice = probe(request("alice@known.test", {"mx.shared.test"}));
  EXPECT_EQ(alice.outcome, SmtpOutcome::inconclusive) << warnings_of(alice);
  EXPECT_EQ(alice.catch_all, true);
  const ProbeResult bob = probe(request("bob@plain.test", {"mx.shared.test"}));
  EXPECT_EQ(bob.outcome, SmtpOutcome::exists) << warnings_of(bob);
  EXPECT_EQ(bob.catch_all, false);
  EXPECT_EQ(server->client_lines("RCPT").size(), 2u);  // no probes
}

}  // namespace
}  // namespace mailsentry
