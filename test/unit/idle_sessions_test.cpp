// Idle sessions parked per host, on their own: which one is taken, the
// oldest elsewhere, an expired one, and that taken ones lose their timer.
#include "net/idle_sessions.hpp"

#include <gtest/gtest.h>

#include <asio/io_context.hpp>
#include <asio/ssl/context.hpp>
#include <chrono>
#include <thread>

namespace mailsentry {
namespace {

using namespace std::chrono_literals;

class IdleSessionsTest : public ::testing::Test {
 protected:
  // Sessions never opened: each with its own creation time as last use.
  std::shared_ptr<SmtpSession> session() {
    std::this_thread::sleep_for(1ms);
    return SmtpSession::create(io, tls, SessionConfig{});
  }
  std::shared_ptr<asio::steady_timer> timer() {
    auto made = std::make_shared<asio::steady_timer>(io, 1h);
    made->async_wait([this](const std::error_code& error) {
      if (error) ++cancelled;
    });
    return made;
  }
  void park(const std::string& host, const std::shared_ptr<SmtpSession>& parked) {
    idle.park(host, parked, timer());
  }
  int cancelled_timers() {
    io.restart();
    io.poll();
    return cancelled;
  }

  asio::io_context io;
  std::shared_ptr<asio::ssl::context> tls =
      std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  IdleSessions idle;
  int cancelled = 0;
};

TEST_F(IdleSessionsTest, TakesTheNewestThatFits) {
  const auto older = session();
  const auto newer = session();
  park("a", older);
  park("a", newer);
  const auto any = [](const SmtpSession&) { return true; };
  const auto not_newer = [&](const SmtpSession& s) { return &s != newer.get(); };
  EXPECT_EQ(idle.take_newest("a", not_newer), older);
  EXPECT_EQ(idle.take_newest("b", any), nullptr);
  EXPECT_EQ(idle.take_newest("a", any), newer);
  EXPECT_TRUE(idle.empty("a"));
  EXPECT_EQ(cancelled_timers(), 2);
}

TEST_F(IdleSessionsTest, TakesTheOldestOfAHost) {
  const auto older = session();
  park("a", older);
  park("a", session());
  EXPECT_EQ(idle.take_oldest("a"), older);
  EXPECT_FALSE(idle.empty("a"));
  EXPECT_EQ(idle.take_oldest("b"), nullptr);
}

TEST_F(IdleSessionsTest, OldestElsewhereSkipsTheAskingHost) {
  const auto own = session();
  const auto oldest_b = session();
  const auto c = session();
  park("a", own);
  park("b", oldest_b);
  park("c", c);
  park("b", session());
  const auto [host, taken] = idle.take_oldest_elsewhere("a");
  EXPECT_EQ(host, "b");
  EXPECT_EQ(taken, oldest_b);
  EXPECT_EQ(idle.take_oldest_elsewhere("a").second, c);  // b's newer one is younger than c
  EXPECT_EQ(idle.take_oldest_elsewhere("a").first, "b");
  EXPECT_EQ(idle.take_oldest_elsewhere("a").second, nullptr);
}

TEST_F(IdleSessionsTest, RemoveOnlyWhatIsStillParked) {
  const auto parked = session();
  park("a", parked);
  EXPECT_FALSE(idle.remove("a", session()));
  EXPECT_FALSE(idle.remove("b", parked));
  EXPECT_TRUE(idle.remove("a", parked));
  EXPECT_FALSE(idle.remove("a", parked));
}

TEST_F(IdleSessionsTest, TakeAllEmptiesEveryHost) {
  park("a", session());
  park("b", session());
  park("b", session());
  EXPECT_EQ(idle.take_all().size(), 3u);
  EXPECT_TRUE(idle.empty("a"));
  EXPECT_TRUE(idle.empty("b"));
  EXPECT_EQ(cancelled_timers(), 3);
}

}  // namespace
}  // namespace mailsentry
