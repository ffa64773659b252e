// How reaching mail hosts ended, merged per host and summarised per probe,
// and the table that names enumerators.
#include "net/mail_host_reach.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "net/enum_text.hpp"

namespace mailsentry {
namespace {

using R = MailHostReach;

TEST(MailHostReach, DescribeNamesEveryOutcome) {
  EXPECT_STREQ(describe(R::answered), "answered");
  EXPECT_STREQ(describe(R::no_address), "no address");
  EXPECT_STREQ(describe(R::off_limits), "off limits");
  EXPECT_STREQ(describe(R::refused), "refused");
  EXPECT_STREQ(describe(R::no_answer), "no answer");
  EXPECT_STREQ(describe(R::port25_blocked), "port 25 blocked");
  EXPECT_STREQ(describe(static_cast<R>(99)), "unknown");
}

TEST(EnumText, LooksUpByValueNotByPosition) {
  enum class Colour { red, green, blue };
  static constexpr EnumText<Colour> kNames[] = {{Colour::blue, "blue"}, {Colour::red, "red"}};
  EXPECT_STREQ(enum_text(Colour::red, kNames, "?"), "red");
  EXPECT_STREQ(enum_text(Colour::blue, kNames, "?"), "blue");
  EXPECT_STREQ(enum_text(Colour::green, kNames, "?"), "?");
}

TEST(MailHostReach, MergeAnAnswerAnywhereSettlesTheHost) {
  EXPECT_EQ(merge_host_reach(R::refused, R::answered), R::answered);
  EXPECT_EQ(merge_host_reach(R::answered, R::no_answer), R::answered);
  EXPECT_EQ(merge_host_reach(R::answered, R::port25_blocked), R::answered);
}

TEST(MailHostReach, MergeBlockedPortExplainsAnyFailure) {
  EXPECT_EQ(merge_host_reach(R::refused, R::port25_blocked), R::port25_blocked);
  EXPECT_EQ(merge_host_reach(R::port25_blocked, R::no_answer), R::port25_blocked);
}

TEST(MailHostReach, MergeTheSameFailureStaysAMixMayPass) {
  EXPECT_EQ(merge_host_reach(R::refused, R::refused), R::refused);
  EXPECT_EQ(merge_host_reach(R::no_address, R::no_address), R::no_address);
  EXPECT_EQ(merge_host_reach(R::refused, R::no_answer), R::no_answer);
  EXPECT_EQ(merge_host_reach(R::off_limits, R::refused), R::no_answer);
}

TEST(MailHostReach, SummaryOfNothingTriedIsNoAnswer) {
  EXPECT_EQ(summarise_reach({}), R::no_answer);
  EXPECT_EQ(summarise_reach({std::nullopt, std::nullopt}), R::no_answer);
}

TEST(MailHostReach, SummaryAnyAnswerWins) {
  EXPECT_EQ(summarise_reach({R::port25_blocked, R::answered, R::no_answer}), R::answered);
}

TEST(MailHostReach, SummaryDefinitiveOnlyWhenEveryHostTriedIs) {
  EXPECT_EQ(summarise_reach({R::no_address, std::nullopt, R::no_address}), R::no_address);
  EXPECT_EQ(summarise_reach({R::no_address, R::off_limits}), R::off_limits);
  // Hosts without a usable address do not keep the others from "refused".
  EXPECT_EQ(summarise_reach({R::no_address, R::off_limits, R::refused}), R::refused);
  EXPECT_EQ(summarise_reach({R::refused, R::no_answer}), R::no_answer);
}

TEST(MailHostReach, SummaryBlockedPortBeatsOtherFailures) {
  EXPECT_EQ(summarise_reach({R::refused, R::port25_blocked, R::no_address}), R::port25_blocked);
}

}  // namespace
}  // namespace mailsentry
