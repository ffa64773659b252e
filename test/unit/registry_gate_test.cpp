// The gate to the RDAP/WHOIS servers on its own, with scripted requests
// instead of real ones: the rate limit per server, the breaker that skips a
// server after it failed (and what it does to requests already pending),
// name resolution, shutdown, and the replies' translation into health.
#include "net/registry_gate.hpp"

#include <gtest/gtest.h>

#include <asio/post.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace mailsentry {
namespace {

using namespace std::chrono_literals;

struct FakeOperation : CancellableOperation {
  RegistryGate::ReplyDone done;  // held like a real request's completion
  bool cancelled = false;
  void cancel() override { cancelled = true; }
};

class RegistryGateTest : public ::testing::Test {
 protected:
  // Resolves every name to 192.0.2.1, except "nowhere.example".
  HostResolver resolver() {
    return [this](const std::string& host, std::function<void(AddressAnswer)> done) {
      resolved.push_back(host);
      AddressAnswer answer;
      if (host == "nowhere.example") {
        answer.status = DnsStatus::no_such_domain;
        answer.error = "NXDOMAIN";
      } else {
        answer.status = DnsStatus::ok;
        answer.addresses = {asio::ip::make_address("192.0.2.1")};
      }
      done(std::move(answer));
    };
  }

  std::shared_ptr<RegistryGate> make_gate(std::chrono::milliseconds interval = 0ms,
                                          std::chrono::milliseconds cooldown = 60s) {
    RegistryGateOptions options;
    options.min_interval = interval;
    options.breaker_cooldown = cooldown;
    return std::make_shared<RegistryGate>(io, resolver(), options);
  }

  // A request that answers `reply` from a handler (or never, when `hang`).
  RegistryGate::Launch launch(RegistryReply reply, bool hang = false) {
    return [this, reply, hang](std::vector<asio::ip::address> addresses,
                               RegistryGate::ReplyDone done) {
      launched_with.push_back(addresses);
      launched_at.push_back(std::chrono::steady_clock::now());
      auto operation = std::make_shared<FakeOperation>();
      operations.push_back(operation);
      if (hang) {
        operation->done = std::move(done);
      } else {
        asio::post(io, [done, reply] { done(reply); });
      }
      return operation;
    };
  }

  // Runs what is ready now, however often the loop ran out of work before.
  void settle() {
    io.restart();
    io.poll();
  }

  RegistryGate::ReplyDone collect() {
    return [this](RegistryReply reply) { replies.push_back(std::move(reply)); };
  }

  static RegistryReply answered() { return RegistryReply{}; }
  static RegistryReply with_health(Health health, std::string error = "", int status = 0) {
    RegistryReply reply;
    reply.health = health;
    reply.error = std::move(error);
    reply.status = status;
    return reply;
  }

  asio::io_context io;
  std::vector<std::string> resolved;
  std::vector<std::vector<asio::ip::address>> launched_with;
  std::vector<std::chrono::steady_clock::time_point> launched_at;
  std::vector<std::shared_ptr<FakeOperation>> operations;
  std::vector<RegistryReply> replies;
};

TEST_F(RegistryGateTest, ResolvesTheServerAndPassesItsAddresses) {
  auto gate = make_gate();
  gate->ask(RegistryProtocol::rdap, "rdap.example", launch(answered()), collect());
  io.run();
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].health, Health::answered);
  EXPECT_EQ(resolved, std::vector<std::string>{"rdap.example"});
  ASSERT_EQ(launched_with.size(), 1u);
  EXPECT_EQ(launched_with[0][0].to_string(), "192.0.2.1");
}

TEST_F(RegistryGateTest, IpLiteralsNeedNoResolver) {
  auto gate = make_gate();
  gate->ask(RegistryProtocol::whois, "2001:db8::43", launch(answered()), collect());
  io.run();
  EXPECT_TRUE(resolved.empty());
  ASSERT_EQ(launched_with.size(), 1u);
  EXPECT_EQ(launched_with[0][0].to_string(), "2001:db8::43");
}

TEST_F(RegistryGateTest, AServerThatDoesNotResolveIsUnreachable) {
  auto gate = make_gate();
  gate->ask(RegistryProtocol::whois, "nowhere.example", launch(answered()), collect());
  io.run();
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].health, Health::unreachable);
  EXPECT_EQ(replies[0].error, "cannot resolve (NXDOMAIN)");
  EXPECT_TRUE(launched_with.empty());
}

TEST_F(RegistryGateTest, RequestsToOneServerStartAnIntervalApart) {
  auto gate = make_gate(60ms);
  gate->ask(RegistryProtocol::rdap, "rdap.example", launch(answered()), collect());
  gate->ask(RegistryProtocol::rdap, "rdap.example", launch(answered()), collect());
  gate->ask(RegistryProtocol::rdap, "other.example", launch(answered()), collect());
  io.run();
  ASSERT_EQ(replies.size(), 3u);
  ASSERT_EQ(launched_at.size(), 3u);
  // The other server is not held up; the second request to rdap.example is.
  EXPECT_LT(launched_at[1] - launched_at[0], 50ms);
  EXPECT_GE(launched_at[2] - launched_at[0], 60ms);
}

TEST_F(RegistryGateTest, AnUnreachableServerIsSkippedForTheCooldown) {
  auto gate = make_gate();
  gate->ask(RegistryProtocol::rdap, "rdap.example",
            launch(with_health(Health::unreachable, "connection refused")), collect());
  io.run();
  io.restart();
  gate->ask(RegistryProtocol::rdap, "rdap.example", launch(answered()), collect());
  io.run();
  ASSERT_EQ(replies.size(), 2u);
  EXPECT_EQ(replies[1].health, Health::skipped);
  EXPECT_EQ(replies[1].error, "skipped, breaker open (connection refused)");
  EXPECT_EQ(launched_with.size(), 1u);

  const std::vector<RegistryStats> stats = gate->stats();
  ASSERT_EQ(stats.size(), 1u);
  EXPECT_EQ(stats[0].name, "rdap.example");
  EXPECT_EQ(stats[0].protocol, "rdap");
  EXPECT_EQ(stats[0].lookups, 1u);
  EXPECT_EQ(stats[0].failures, 1u);
  EXPECT_EQ(stats[0].skipped, 1u);
  EXPECT_TRUE(stats[0].breaker_open);
  EXPECT_EQ(stats[0].breaker_openings, 1u);
  EXPECT_GT(stats[0].open_until, std::chrono::system_clock::now());

  gate->set_options(RegistryGateOptions{0ms, 60s});  // closes every breaker
  EXPECT_FALSE(gate->stats()[0].breaker_open);
  EXPECT_EQ(gate->stats()[0].breaker_openings, 1u);
}

TEST_F(RegistryGateTest, ServerErrorsOpenTheBreakerOnTheThird) {
  auto gate = make_gate();
  for (int i = 0; i < 3; ++i) {
    gate->ask(RegistryProtocol::rdap, "rdap.example",
              launch(with_health(Health::server_error, "", 503)), collect());
    io.run();
    io.restart();
    EXPECT_EQ(gate->stats()[0].breaker_open, i == 2) << i;
  }
  gate->ask(RegistryProtocol::rdap, "rdap.example", launch(answered()), collect());
  io.run();
  EXPECT_EQ(replies.back().error, "skipped, breaker open (HTTP 503)");
}

TEST_F(RegistryGateTest, OpeningAbandonsWhatIsPendingAtThatServer) {
  auto gate = make_gate();
  gate->ask(RegistryProtocol::whois, "whois.example", launch(answered(), true), collect());
  gate->ask(RegistryProtocol::whois, "whois.example", launch(answered(), true), collect());
  // Another server's failure leaves them alone.
  gate->ask(RegistryProtocol::whois, "other.example",
            launch(with_health(Health::unreachable, "timeout after 5 ms")), collect());
  settle();
  ASSERT_EQ(replies.size(), 1u);
  ASSERT_EQ(operations.size(), 3u);
  EXPECT_FALSE(operations[0]->cancelled);
  EXPECT_FALSE(operations[1]->cancelled);
  // This server's failure opens its breaker: both hung requests fail fast.
  gate->ask(RegistryProtocol::whois, "whois.example",
            launch(with_health(Health::unreachable, "connection reset")), collect());
  settle();
  EXPECT_TRUE(operations[0]->cancelled);
  EXPECT_TRUE(operations[1]->cancelled);
  ASSERT_EQ(replies.size(), 4u);
  EXPECT_EQ(replies[2].error, "skipped, breaker open (connection reset)");
  EXPECT_EQ(replies[3].error, "skipped, breaker open (connection reset)");
  const std::vector<RegistryStats> stats = gate->stats();
  ASSERT_EQ(stats.size(), 2u);
  EXPECT_EQ(stats[1].name, "whois.example");
  EXPECT_EQ(stats[1].skipped, 2u);
  EXPECT_EQ(stats[1].lookups, 3u);
}

TEST_F(RegistryGateTest, ShutdownDropsPendingRequestsSilently) {
  auto gate = make_gate(10s);
  gate->ask(RegistryProtocol::rdap, "rdap.example", launch(answered(), true), collect());
  gate->ask(RegistryProtocol::rdap, "rdap.example", launch(answered()), collect());
  settle();
  gate->shutdown();
  settle();
  EXPECT_TRUE(replies.empty());
  ASSERT_EQ(operations.size(), 1u);
  EXPECT_TRUE(operations[0]->cancelled);
}

TEST_F(RegistryGateTest, WorthWaitingForOnlyWhatIsOnTheWireAndFresh) {
  auto gate = make_gate();
  const auto before = std::chrono::steady_clock::now();
  auto hung =
      gate->ask(RegistryProtocol::rdap, "rdap.example", launch(answered(), true), collect());
  settle();
  EXPECT_TRUE(RegistryGate::worth_waiting_for(*hung, before, 1s));
  // Asked long before this verification started.
  EXPECT_FALSE(RegistryGate::worth_waiting_for(*hung, std::chrono::steady_clock::now() + 2s, 1s));
  // Another request at the server has hung longer than the grace.
  auto later =
      gate->ask(RegistryProtocol::rdap, "rdap.example", launch(answered(), true), collect());
  settle();
  EXPECT_TRUE(RegistryGate::worth_waiting_for(*later, before, 1s));
  EXPECT_FALSE(RegistryGate::worth_waiting_for(*later, before, 0ms));
  gate->shutdown();
  EXPECT_FALSE(RegistryGate::worth_waiting_for(*hung, before, 1s));
}

TEST(RegistryReply, HealthOfFailures) {
  EXPECT_EQ(health_of(RequestFailure::none), Health::answered);
  EXPECT_EQ(health_of(RequestFailure::refused), Health::unreachable);
  EXPECT_EQ(health_of(RequestFailure::unreachable), Health::unreachable);
  EXPECT_EQ(health_of(RequestFailure::broken), Health::server_error);
  EXPECT_EQ(health_of(RequestFailure::too_large), Health::answered);
  EXPECT_EQ(health_of(RequestFailure::cancelled), Health::answered);
}

TEST(RegistryReply, FromHttpAndWhois) {
  HttpResponse ok;
  ok.status = 200;
  ok.body = "{}";
  EXPECT_EQ(reply_from(ok).health, Health::answered);
  EXPECT_EQ(reply_from(ok).text, "{}");
  HttpResponse busy;
  busy.status = 429;
  EXPECT_EQ(reply_from(busy).health, Health::server_error);
  busy.status = 503;
  EXPECT_EQ(reply_from(busy).health, Health::server_error);
  EXPECT_EQ(reply_from(busy).status, 503);
  HttpResponse refused;
  refused.failure = RequestFailure::refused;
  refused.error = "private address";
  EXPECT_EQ(reply_from(refused).health, Health::unreachable);
  EXPECT_EQ(reply_from(refused).error, "private address");

  WhoisResponse answer;
  answer.text = "Creation Date: 2001-01-01";
  EXPECT_EQ(reply_from(answer).health, Health::answered);
  EXPECT_EQ(reply_from(answer).text, "Creation Date: 2001-01-01");
  WhoisResponse reset;
  reset.failure = RequestFailure::broken;
  EXPECT_EQ(reply_from(reset).health, Health::server_error);
}

}  // namespace
}  // namespace mailsentry
