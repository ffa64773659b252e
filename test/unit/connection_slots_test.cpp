// The per-MX and overall connection limits on their own.
#include "net/connection_slots.hpp"

#include <gtest/gtest.h>

namespace mailsentry {
namespace {

using Verdict = ConnectionSlots::Verdict;

SmtpOptions limits(int per_mx, int total) {
  SmtpOptions options;
  options.max_connections_per_mx = per_mx;
  options.max_connections_total = total;
  return options;
}

TEST(ConnectionSlots, OpensUpToThePerMxLimit) {
  ConnectionSlots slots;
  const SmtpOptions options = limits(2, 10);
  EXPECT_EQ(slots.verdict("a", options), Verdict::open);
  slots.take("a");
  slots.take("a");
  EXPECT_EQ(slots.verdict("a", options), Verdict::host_full);
  EXPECT_EQ(slots.verdict("b", options), Verdict::open);
  EXPECT_EQ(slots.sessions("a"), 2);
  EXPECT_EQ(slots.total(), 2);
  slots.free("a");
  EXPECT_EQ(slots.verdict("a", options), Verdict::open);
}

TEST(ConnectionSlots, OverallLimitAsksForRoomOneQuitAtATime) {
  ConnectionSlots slots;
  const SmtpOptions options = limits(2, 2);
  slots.take("a");
  slots.take("b");
  EXPECT_EQ(slots.verdict("c", options), Verdict::make_room_elsewhere);
  slots.quit_started();
  EXPECT_EQ(slots.verdict("c", options), Verdict::wait);  // a slot is on its way
  slots.quit_ended();
  slots.free("a");
  EXPECT_EQ(slots.verdict("c", options), Verdict::open);
}

TEST(ConnectionSlots, LimitsBelowOneCountAsOneAndCountsNeverGoNegative) {
  ConnectionSlots slots;
  const SmtpOptions options = limits(0, 0);
  EXPECT_EQ(slots.verdict("a", options), Verdict::open);
  slots.take("a");
  EXPECT_EQ(slots.verdict("a", options), Verdict::host_full);
  EXPECT_EQ(slots.verdict("b", options), Verdict::make_room_elsewhere);
  slots.free("a");
  slots.free("a");
  EXPECT_EQ(slots.sessions("a"), 0);
  EXPECT_EQ(slots.total(), 0);
  EXPECT_EQ(slots.sessions("never-seen"), 0);
}

}  // namespace
}  // namespace mailsentry
