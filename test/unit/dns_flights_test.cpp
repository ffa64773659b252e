// Lookups in flight shared by identical lookups: every waiter gets its own
// copy of the one answer, from the loop; the flight closes when it completes
// (or its query could not be sent), and a completion that runs after the
// table is gone leaves it alone.
#include "net/dns_flights.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace mailsentry {
namespace {

using Done = std::function<void(std::string)>;

class DnsFlightsTest : public ::testing::Test {
 protected:
  Done waiter() {
    return [this](std::string answer) { answers.push_back(std::move(answer)); };
  }

  asio::io_context io;
  std::shared_ptr<char> alive = std::make_shared<char>();
  std::vector<std::string> answers;
};

TEST_F(DnsFlightsTest, WaitersShareOneQueryAndEachGetTheAnswer) {
  DnsFlights<std::string> flights(io, alive);
  Done complete;
  int queries = 0;
  flights.open("MX x", waiter(), [&](Done completion) {
    ++queries;
    complete = std::move(completion);
  });
  Done second = waiter();
  Done third = waiter();
  EXPECT_TRUE(flights.join("MX x", second));
  EXPECT_TRUE(flights.join("MX x", third));
  Done other = waiter();
  EXPECT_FALSE(flights.join("MX y", other));
  complete("answer");
  EXPECT_TRUE(answers.empty());  // delivered from the loop, never inline
  io.run();
  EXPECT_EQ(answers, (std::vector<std::string>{"answer", "answer", "answer"}));
  EXPECT_EQ(queries, 1);
  Done late = waiter();
  EXPECT_FALSE(flights.join("MX x", late));  // closed: the next lookup asks again
}

TEST_F(DnsFlightsTest, AQueryThatCannotBeSentClosesItsFlight) {
  DnsFlights<std::string> flights(io, alive);
  EXPECT_THROW(flights.open("A x", waiter(), [](Done) { throw std::runtime_error("no memory"); }),
               std::runtime_error);
  Done next = waiter();
  EXPECT_FALSE(flights.join("A x", next));
}

TEST_F(DnsFlightsTest, ClearLetsOldFlightsFinishButNotBeJoined) {
  DnsFlights<std::string> flights(io, alive);
  Done complete;
  flights.open("A x", waiter(), [&](Done completion) { complete = std::move(completion); });
  flights.clear();
  Done next = waiter();
  EXPECT_FALSE(flights.join("A x", next));
  complete("cancelled");
  io.run();
  EXPECT_EQ(answers, std::vector<std::string>{"cancelled"});
}

TEST_F(DnsFlightsTest, ACompletionAfterTheTableIsGoneStillDelivers) {
  auto flights = std::make_unique<DnsFlights<std::string>>(io, alive);
  Done complete;
  flights->open("A x", waiter(), [&](Done completion) { complete = std::move(completion); });
  alive.reset();
  flights.reset();
  complete("cancelled");
  io.run();
  EXPECT_EQ(answers, std::vector<std::string>{"cancelled"});
}

TEST_F(DnsFlightsTest, DeliverSwallowsWhatTheCallbackThrows) {
  deliver<std::string>(
      io, [](std::string) { throw std::runtime_error("x"); }, "a");
  deliver<std::string>(io, nullptr, "b");  // no callback: nothing to run
  EXPECT_NO_THROW(io.run());
}

}  // namespace
}  // namespace mailsentry
