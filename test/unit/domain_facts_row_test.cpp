#include "verdict/domain_facts_row.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace mailsentry {
namespace {

using std::chrono::milliseconds;

DomainFactsRow row_for(const char* domain) {
  DomainFactsRow row{};
  row.domain.assign(domain);
  row.mx_found = TriState::null;
  row.catch_all = TriState::null;
  row.registrable_domain.set_null();
  row.created_days.set_null();
  return row;
}

TEST(DomainFactsRow, ValidPartsAreHandedBack) {
  DomainFactsRow row = row_for("mail.example.com");
  row.mx_found = TriState::yes;
  row.mx_count = 2;
  row.mx_records[0].assign("mx1.example.com");
  row.mx_records[1].assign("mx2.example.com");
  row.mx_valid_ms = 5000;
  row.catch_all = TriState::no;
  row.catch_all_valid_ms = 6000;
  row.registrable_domain.assign("example.com");
  row.created_days.set(9000);
  row.created_valid_ms = 7000;

  const KnownDomainFacts facts = known_facts_of(row);
  EXPECT_EQ(facts.domain, "mail.example.com");
  ASSERT_TRUE(facts.mx.has_value());
  EXPECT_EQ(facts.mx->mx_found, true);
  EXPECT_FALSE(facts.mx->implicit_mx);
  EXPECT_EQ(facts.mx->mx_records, (std::vector<std::string>{"mx1.example.com", "mx2.example.com"}));
  EXPECT_EQ(facts.mx->valid_for, milliseconds(5000));
  EXPECT_EQ(facts.catch_all, false);
  EXPECT_EQ(facts.catch_all_valid_for, milliseconds(6000));
  EXPECT_EQ(facts.registrable_domain, "example.com");
  EXPECT_EQ(facts.domain_created_days, 9000);
  EXPECT_EQ(facts.domain_age_valid_for, milliseconds(7000));
}

TEST(DomainFactsRow, ExpiredPartsAreLeftOut) {
  DomainFactsRow row = row_for("example.org");
  row.mx_found = TriState::no;
  row.mx_valid_ms = 0;
  row.catch_all = TriState::yes;
  row.catch_all_valid_ms = -10;
  row.registrable_domain.assign("example.org");
  row.created_days.set(100);
  row.created_valid_ms = -1;

  const KnownDomainFacts facts = known_facts_of(row);
  EXPECT_EQ(facts.domain, "example.org");
  EXPECT_FALSE(facts.mx.has_value());
  EXPECT_FALSE(facts.catch_all.has_value());
  EXPECT_EQ(facts.registrable_domain, "");
  EXPECT_FALSE(facts.domain_created_days.has_value());
}

TEST(DomainFactsRow, UnknownPartsAreLeftOut) {
  DomainFactsRow row = row_for("example.net");
  row.mx_valid_ms = 5000;
  row.catch_all_valid_ms = 5000;
  row.registrable_domain.assign("example.net");
  row.created_valid_ms = 5000;  // but no date

  const KnownDomainFacts facts = known_facts_of(row);
  EXPECT_FALSE(facts.mx.has_value());
  EXPECT_FALSE(facts.catch_all.has_value());
  EXPECT_FALSE(facts.domain_created_days.has_value());
}

TEST(DomainFactsRow, ADomainWithoutMxRecordsKeepsItsImplicitMx) {
  DomainFactsRow row = row_for("example.com");
  row.mx_found = TriState::yes;
  row.implicit_mx = true;
  row.mx_valid_ms = 1000;

  const KnownDomainFacts facts = known_facts_of(row);
  ASSERT_TRUE(facts.mx.has_value());
  EXPECT_TRUE(facts.mx->implicit_mx);
  EXPECT_TRUE(facts.mx->mx_records.empty());
}

}  // namespace
}  // namespace mailsentry
