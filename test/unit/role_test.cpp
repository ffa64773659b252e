#include "checks/role.hpp"

#include <gtest/gtest.h>

namespace mailsentry {
namespace {

const Lists& lists() {
  static const Lists kLists = Lists::builtin();
  return kLists;
}

RoleResult role(std::string_view local) { return classify_role(local, lists()); }

TEST(Role, SystemAddresses) {
  for (auto local :
       {"noreply", "no-reply", "no_reply", "no.reply", "donotreply", "do-not-reply", "postmaster",
        "mailer-daemon", "MAILER-DAEMON", "abuse", "hostmaster", "bounces", "webmaster"}) {
    EXPECT_EQ(role(local).tier, RoleTier::system) << local;
  }
  EXPECT_EQ(role("noreply").role_type, "noreply");
  EXPECT_EQ(role("No-Reply").role_type, "noreply");
  EXPECT_EQ(role("postmaster").role_type, "mail");
  EXPECT_EQ(role("abuse").role_type, "abuse");
}

TEST(Role, NoReplyAndBounceWordsInsideLongerLocalParts) {
  EXPECT_EQ(role("billing-noreply").role_type, "noreply");
  EXPECT_EQ(role("noreply.12345").tier, RoleTier::system);
  EXPECT_EQ(role("shop_do_not_reply").role_type, "noreply");
  EXPECT_EQ(role("bounce-1234-user=example.org").role_type, "mail");
  EXPECT_FALSE(role("bouncer").is_role_based());
}

TEST(Role, RoleAddressesAndGroups) {
  EXPECT_EQ(role("info").tier, RoleTier::role);
  EXPECT_EQ(role("info").role_type, "general");
  EXPECT_EQ(role("sales").role_type, "sales");
  EXPECT_EQ(role("support").role_type, "support");
  EXPECT_EQ(role("hello").role_type, "general");
  EXPECT_EQ(role("billing").role_type, "billing");
  EXPECT_EQ(role("jobs").role_type, "hr");
  EXPECT_EQ(role("marketing").role_type, "marketing");
  EXPECT_EQ(role("legal").role_type, "legal");
  EXPECT_EQ(role("security").role_type, "security");
  EXPECT_EQ(role("admin").role_type, "admin");
  EXPECT_EQ(role("dpo").role_type, "legal");  // added: GDPR data-protection officer
}

TEST(Role, CaseTagsAndQuotes) {
  EXPECT_EQ(role("INFO").role_type, "general");
  EXPECT_EQ(role("info+newsletter").role_type, "general");
  EXPECT_EQ(role("Support+ticket-42").role_type, "support");
  EXPECT_EQ(role("\"sales\"").role_type, "sales");
  EXPECT_FALSE(role("").is_role_based());
  EXPECT_FALSE(role("+info").is_role_based());
  EXPECT_FALSE(role(std::string(200, 'a')).is_role_based());
}

TEST(Role, SeparatorVariants) {
  EXPECT_EQ(role("customer-service").role_type, "support");
  EXPECT_EQ(role("customer_service").role_type, "support");
  EXPECT_EQ(role("sales.team").role_type, "sales");
  EXPECT_EQ(role("human-resources").role_type, "hr");
  // Single letters joined by dots are initials, not hr@ / it@.
  EXPECT_FALSE(role("h.r").is_role_based());
  EXPECT_FALSE(role("i.t").is_role_based());
}

TEST(Role, NumberedRoleMailboxes) {
  EXPECT_EQ(role("sales2").role_type, "sales");
  EXPECT_EQ(role("info1").role_type, "general");
  EXPECT_EQ(role("support-24").role_type, "support");
  EXPECT_EQ(role("customer.service3").role_type, "support");
  // Longer numbers read as a person's handle; names stay names with digits.
  EXPECT_FALSE(role("admin1987").is_role_based());
  EXPECT_FALSE(role("alexa2").is_role_based());
  EXPECT_FALSE(role("12").is_role_based());
}

TEST(Role, CuratedNameOverlaps) {
  // Real given names in the source list are a person's mailbox.
  for (auto local : {"alexa", "captain", "sydney", "paris", "per", "reg", "alla", "angels"}) {
    EXPECT_FALSE(role(local).is_role_based()) << local;
  }
  // Role words that are also rare surnames stay roles.
  EXPECT_EQ(role("jobs").tier, RoleTier::role);
  EXPECT_EQ(role("press").role_type, "press");
  EXPECT_EQ(role("staff").role_type, "staff");
  EXPECT_EQ(role("root").tier, RoleTier::system);
}

TEST(Role, DeliberateNonRoles) {
  for (auto local : {"123", "2020", "test", "boston", "facebook", "nobody", "asdf", "md"}) {
    EXPECT_FALSE(role(local).is_role_based()) << local;
    EXPECT_TRUE(role(local).role_type.empty()) << local;
  }
  EXPECT_FALSE(role("john.smith").is_role_based());
  EXPECT_FALSE(role("information.overload").is_role_based());
}

TEST(Role, UserOverrides) {
  Lists copy = Lists::builtin();
  copy.roles.add("alexa", "role:support");
  copy.roles.add("frontline", "");
  copy.roles.remove("info");
  EXPECT_EQ(classify_role("alexa", copy).role_type, "support");
  EXPECT_EQ(classify_role("frontline", copy).tier, RoleTier::role);
  EXPECT_FALSE(classify_role("info", copy).is_role_based());
}

}  // namespace
}  // namespace mailsentry
