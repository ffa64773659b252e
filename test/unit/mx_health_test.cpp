// One MX host's health on a fake clock: the breaker, the back-off after a
// 421, a restored breaker, and the statistics row.
#include "net/mx_health.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace mailsentry {
namespace {

using namespace std::chrono_literals;
using Clock = MxHealth::Clock;

class MxHealthTest : public ::testing::Test {
 protected:
  MxHealthTest() {
    options.breaker_failure_threshold = 2;
    options.breaker_cooldown = 60s;
    options.backoff_after_421 = 30s;
  }
  Clock::time_point at(std::chrono::milliseconds offset) const { return start + offset; }

  const Clock::time_point start = Clock::time_point{} + 1000h;
  SmtpOptions options;
  MxHealth health;
};

TEST_F(MxHealthTest, AvailableUntilTheBreakerOpens) {
  EXPECT_EQ(health.unavailable_reason("mx.a.test", at(0s)), "");
  EXPECT_FALSE(health.record_failure(true, at(0s), options));
  EXPECT_TRUE(health.record_failure(false, at(1s), options));  // the second in a row opens it
  EXPECT_EQ(health.timeouts, 1u);
  EXPECT_EQ(health.errors, 1u);
  EXPECT_EQ(health.unavailable_reason("mx.a.test", at(2s)), "circuit breaker open for mx.a.test");
  EXPECT_EQ(health.unavailable_reason("mx.a.test", at(61s)), "");  // the cooldown is over
}

TEST_F(MxHealthTest, BackOffAfter421SaysHowLongIsLeft) {
  health.back_off(at(0s), options);
  EXPECT_EQ(health.unavailable_reason("mx.a.test", at(10s)),
            "backing off from mx.a.test after 421 (20000 ms left)");
  EXPECT_EQ(health.unavailable_reason("mx.a.test", at(30s)), "");
}

TEST_F(MxHealthTest, RestoredBreakerNeverOutlastsTheCooldown) {
  EXPECT_FALSE(health.restore_breaker(0ms, at(0s), options));
  EXPECT_EQ(health.unavailable_reason("mx.a.test", at(0s)), "");
  EXPECT_TRUE(health.restore_breaker(10min, at(0s), options));
  EXPECT_NE(health.unavailable_reason("mx.a.test", at(59s)), "");
  EXPECT_EQ(health.unavailable_reason("mx.a.test", at(60s)), "");
  // Counted as if the threshold had been reached: the next failure reopens it.
  EXPECT_TRUE(health.record_failure(false, at(61s), options));
}

TEST_F(MxHealthTest, QueuedReportsOnlyWhenItEmptiesOrStarts) {
  EXPECT_FALSE(health.set_queued(0));
  EXPECT_TRUE(health.set_queued(3));
  EXPECT_FALSE(health.set_queued(5));
  EXPECT_TRUE(health.set_queued(0));
}

TEST_F(MxHealthTest, StatsRowWithTheBreakerOnTheWallClock) {
  health.probes = 7;
  health.set_queued(2);
  health.record_failure(true, at(0s), options);
  health.record_failure(true, at(0s), options);
  const auto wall = std::chrono::system_clock::time_point{} + 20000h;
  const SmtpProber::MxStats stats = health.stats("mx.a.test", 3, at(15s), wall);
  EXPECT_EQ(stats.host, "mx.a.test");
  EXPECT_EQ(stats.sessions_open, 3);
  EXPECT_EQ(stats.queued, 2);
  EXPECT_EQ(stats.probes, 7u);
  EXPECT_EQ(stats.timeouts, 2u);
  EXPECT_TRUE(stats.breaker_open);
  EXPECT_EQ(stats.breaker_open_until, wall + 45s);
  EXPECT_FALSE(health.stats("mx.a.test", 0, at(61s), wall).breaker_open);
}

}  // namespace
}  // namespace mailsentry
