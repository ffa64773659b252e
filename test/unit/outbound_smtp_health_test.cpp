// OutboundSmtpHealth alone, on a fake clock: when port 25 counts as
// blocked, how new connections are paced meanwhile, and when it works again.
#include "net/outbound_smtp_health.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace mailsentry {
namespace {

using namespace std::chrono_literals;
using Clock = OutboundSmtpHealth::Clock;

class OutboundSmtpHealthTest : public ::testing::Test {
 protected:
  // An arbitrary start far from the clock's epoch.
  Clock::time_point at(std::chrono::milliseconds offset) const { return start_ + offset; }

  const Clock::time_point start_ = Clock::time_point{} + 1000h;
  OutboundSmtpHealth health_;  // default options: 60 s window and retry, 10 min known working
};

TEST_F(OutboundSmtpHealthTest, ThreeDistinctHostsFailingInARowBlock) {
  EXPECT_FALSE(health_.record("mx1.test", ConnectOutcome::refused, at(0s)));
  EXPECT_FALSE(health_.record("mx2.test", ConnectOutcome::timed_out, at(10s)));
  EXPECT_FALSE(health_.blocked());
  EXPECT_TRUE(health_.record("mx3.test", ConnectOutcome::refused, at(20s)));
  EXPECT_TRUE(health_.blocked());
  const OutboundSmtpState state = health_.state(at(20s));
  EXPECT_TRUE(state.blocked);
  EXPECT_EQ(state.episodes, 1u);
  EXPECT_FALSE(state.known_working);
  EXPECT_EQ(state.last_success, std::chrono::system_clock::time_point{});
}

TEST_F(OutboundSmtpHealthTest, OneHostFailingRepeatedlyIsNotABlock) {
  for (int i = 0; i < 10; ++i)
    EXPECT_FALSE(health_.record("mx1.test", ConnectOutcome::refused, at(i * 1s)));
  EXPECT_FALSE(health_.record("mx2.test", ConnectOutcome::timed_out, at(11s)));
  EXPECT_FALSE(health_.blocked());
  EXPECT_EQ(health_.state(at(11s)).episodes, 0u);
}

TEST_F(OutboundSmtpHealthTest, FailuresOutsideTheWindowDoNotCount) {
  health_.record("mx1.test", ConnectOutcome::refused, at(0s));
  health_.record("mx2.test", ConnectOutcome::refused, at(30s));
  // mx1's failure is 61 s old by now: two distinct hosts within the minute.
  EXPECT_FALSE(health_.record("mx3.test", ConnectOutcome::refused, at(61s)));
  EXPECT_FALSE(health_.blocked());
  // mx1 failing again inside the window makes three.
  EXPECT_TRUE(health_.record("mx1.test", ConnectOutcome::timed_out, at(70s)));
  EXPECT_TRUE(health_.blocked());
}

TEST_F(OutboundSmtpHealthTest, ASuccessBreaksTheRow) {
  health_.record("mx1.test", ConnectOutcome::refused, at(0s));
  health_.record("mx2.test", ConnectOutcome::refused, at(1s));
  health_.record("mx9.test", ConnectOutcome::succeeded, at(2s));
  EXPECT_FALSE(health_.record("mx3.test", ConnectOutcome::refused, at(3s)));
  EXPECT_FALSE(health_.record("mx4.test", ConnectOutcome::refused, at(4s)));
  EXPECT_FALSE(health_.blocked());
  EXPECT_TRUE(health_.record("mx5.test", ConnectOutcome::refused, at(5s)));
}

TEST_F(OutboundSmtpHealthTest, WhileBlockedOneNewConnectionPerRetryInterval) {
  EXPECT_TRUE(health_.allow_new_connection(at(0s)));  // not blocked: always
  EXPECT_TRUE(health_.allow_new_connection(at(0s)));
  health_.record("mx1.test", ConnectOutcome::refused, at(0s));
  health_.record("mx2.test", ConnectOutcome::refused, at(1s));
  health_.record("mx3.test", ConnectOutcome::refused, at(2s));
  ASSERT_TRUE(health_.blocked());
  // The failure that blocked was the latest attempt: the next waits a minute.
  EXPECT_FALSE(health_.allow_new_connection(at(2s)));
  EXPECT_FALSE(health_.allow_new_connection(at(61s)));
  EXPECT_TRUE(health_.allow_new_connection(at(62s)));
  EXPECT_FALSE(health_.allow_new_connection(at(62s)));  // used up
  EXPECT_FALSE(health_.allow_new_connection(at(121s)));
  EXPECT_TRUE(health_.allow_new_connection(at(122s)));
}

TEST_F(OutboundSmtpHealthTest, FailuresWhileBlockedAreOneEpisode) {
  health_.record("mx1.test", ConnectOutcome::refused, at(0s));
  health_.record("mx2.test", ConnectOutcome::refused, at(1s));
  health_.record("mx3.test", ConnectOutcome::refused, at(2s));
  for (int i = 0; i < 5; ++i)
    EXPECT_FALSE(health_.record("mx" + std::to_string(10 + i) + ".test", ConnectOutcome::timed_out,
                                at(3s + i * 1s)));
  EXPECT_TRUE(health_.blocked());
  EXPECT_EQ(health_.state(at(10s)).episodes, 1u);
}

TEST_F(OutboundSmtpHealthTest, ASuccessEndsTheEpisodeAndANewOneCountsAgain) {
  health_.record("mx1.test", ConnectOutcome::refused, at(0s));
  health_.record("mx2.test", ConnectOutcome::refused, at(1s));
  health_.record("mx3.test", ConnectOutcome::refused, at(2s));
  ASSERT_TRUE(health_.blocked());
  ASSERT_TRUE(health_.allow_new_connection(at(62s)));
  health_.record("mx1.test", ConnectOutcome::succeeded, at(62s));
  EXPECT_FALSE(health_.blocked());
  EXPECT_TRUE(health_.allow_new_connection(at(62s)));
  EXPECT_TRUE(health_.allow_new_connection(at(62s)));
  // The old failures are forgotten: three new ones are needed.
  EXPECT_FALSE(health_.record("mx4.test", ConnectOutcome::refused, at(63s)));
  EXPECT_FALSE(health_.record("mx5.test", ConnectOutcome::refused, at(64s)));
  EXPECT_TRUE(health_.record("mx6.test", ConnectOutcome::refused, at(65s)));
  EXPECT_EQ(health_.state(at(65s)).episodes, 2u);
}

TEST_F(OutboundSmtpHealthTest, KnownWorkingForTenMinutesAfterASuccess) {
  EXPECT_FALSE(health_.known_working(at(0s)));
  health_.record("mx1.test", ConnectOutcome::succeeded, at(0s));
  EXPECT_TRUE(health_.known_working(at(0s)));
  EXPECT_TRUE(health_.known_working(at(600s)));
  EXPECT_FALSE(health_.known_working(at(601s)));
  // Failures since do not take it back: a connection did work recently.
  health_.record("mx2.test", ConnectOutcome::refused, at(10s));
  EXPECT_TRUE(health_.known_working(at(20s)));

  const auto before = std::chrono::system_clock::now();
  const OutboundSmtpState state = health_.state(at(30s));
  EXPECT_TRUE(state.known_working);
  // The success was 30 s before the state was asked for, on the wall clock too.
  EXPECT_LE(state.last_success, before - 29s);
  EXPECT_GE(state.last_success, before - 31s);
}

TEST_F(OutboundSmtpHealthTest, OptionsSetTheTimes) {
  OutboundHealthOptions options;
  options.failure_window = 100ms;
  options.retry_interval = 200ms;
  options.known_working_for = 50ms;
  health_.set_options(options);
  health_.record("mx1.test", ConnectOutcome::refused, at(0ms));
  health_.record("mx2.test", ConnectOutcome::refused, at(50ms));
  EXPECT_FALSE(health_.record("mx3.test", ConnectOutcome::refused, at(120ms)));  // mx1 too old
  EXPECT_TRUE(health_.record("mx4.test", ConnectOutcome::refused, at(140ms)));
  EXPECT_FALSE(health_.allow_new_connection(at(339ms)));
  EXPECT_TRUE(health_.allow_new_connection(at(340ms)));
  health_.record("mx1.test", ConnectOutcome::succeeded, at(400ms));
  EXPECT_TRUE(health_.known_working(at(450ms)));
  EXPECT_FALSE(health_.known_working(at(451ms)));
}

}  // namespace
}  // namespace mailsentry
