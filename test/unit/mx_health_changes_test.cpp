#include "verdict/mx_health_changes.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace mailsentry {
namespace {

SmtpProber::MxStats mx(const char* host, std::uint64_t probes, std::uint64_t timeouts,
                       std::uint64_t errors, bool breaker_open) {
  SmtpProber::MxStats stats;
  stats.host = host;
  stats.probes = probes;
  stats.timeouts = timeouts;
  stats.errors = errors;
  stats.breaker_open = breaker_open;
  return stats;
}

std::vector<MxHealthChange> take(MxHealthChanges& changes,
                                 const std::vector<SmtpProber::MxStats>& current,
                                 bool with_counters) {
  std::vector<MxHealthChange> out;
  changes.take(current, with_counters, out);
  return out;
}

TEST(MxHealthChanges, CountersAreSavedAsIncrementsWhenAsked) {
  MxHealthChanges changes;
  std::vector<MxHealthChange> out = take(changes, {mx("mx.example.com", 5, 1, 2, false)}, true);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].host.view(), "mx.example.com");
  EXPECT_EQ(out[0].probes, 5);
  EXPECT_EQ(out[0].timeouts, 1);
  EXPECT_EQ(out[0].errors, 2);
  EXPECT_FALSE(out[0].breaker_open);

  out = take(changes, {mx("mx.example.com", 8, 1, 3, false)}, true);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].probes, 3);
  EXPECT_EQ(out[0].timeouts, 0);
  EXPECT_EQ(out[0].errors, 1);
}

TEST(MxHealthChanges, UnchangedOrCounterOnlyChangesWaitForTheCounterSave) {
  MxHealthChanges changes;
  EXPECT_TRUE(take(changes, {mx("mx.example.com", 0, 0, 0, false)}, true).empty());
  EXPECT_TRUE(take(changes, {mx("mx.example.com", 4, 0, 0, false)}, false).empty());
  const std::vector<MxHealthChange> out =
      take(changes, {mx("mx.example.com", 4, 0, 0, false)}, true);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].probes, 4);
}

TEST(MxHealthChanges, ABreakerThatOpensOrClosesIsSavedAtOnce) {
  MxHealthChanges changes;
  SmtpProber::MxStats open = mx("mx.example.net", 3, 3, 0, true);
  open.breaker_open_until = std::chrono::system_clock::time_point(std::chrono::seconds(1000));
  std::vector<MxHealthChange> out = take(changes, {open}, false);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].breaker_open);
  EXPECT_EQ(out[0].breaker_open_until, open.breaker_open_until);
  EXPECT_EQ(out[0].probes, 3);

  EXPECT_TRUE(take(changes, {open}, false).empty());
  out = take(changes, {mx("mx.example.net", 3, 3, 0, false)}, false);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(out[0].breaker_open);
  EXPECT_EQ(out[0].probes, 0);
}

}  // namespace
}  // namespace mailsentry
