// The plain-data record of one verification and its JSON form: what the SQL
// functions return is filled here, without PostgreSQL.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>
#include <type_traits>

#include "checks/lists.hpp"
#include "verdict/record_json.hpp"
#include "verdict/verification.hpp"
#include "verdict/verification_record.hpp"
#include "verdict/verification_record_fill.hpp"

namespace mailsentry {
namespace {

static_assert(std::is_trivially_copyable_v<VerificationRecord>);

VerificationRecord record_of(std::string_view address, const NetworkFacts* facts) {
  static const Lists lists = Lists::builtin();
  Verification v = check_offline(address, lists);
  if (facts != nullptr) apply_network_facts(v, *facts);
  assess(v, Weights());
  VerificationRecord record{};
  fill_record(v, "standard", record);
  return record;
}

TEST(VerificationRecordFill, InvalidSyntaxLeavesTheOtherChecksNull) {
  const VerificationRecord r = record_of("not an address", nullptr);
  EXPECT_EQ(r.syntax_valid, TriState::no);
  EXPECT_EQ(r.verdict.view(), "invalid");
  EXPECT_EQ(r.score, 0);
  EXPECT_FALSE(r.normalized.present);
  EXPECT_EQ(r.mx_found, TriState::null);
  EXPECT_EQ(r.smtp_valid, TriState::null);
  EXPECT_EQ(r.is_disposable, TriState::null);
  EXPECT_EQ(r.verification_depth.view(), "standard");
}

TEST(VerificationRecordFill, ConfirmedMailboxFillsTheNetworkFields) {
  NetworkFacts facts;
  facts.mx_found = true;
  facts.mx_records = {"mx.acme-widgets.com"};
  facts.smtp = SmtpOutcome::exists;
  facts.catch_all = false;
  facts.mx_host = "mx.acme-widgets.com";
  facts.smtp_code = 250;
  facts.smtp_message = "2.1.5 OK";
  facts.domain_created_days = 10000;
  facts.domain_age_days = 9000;
  const VerificationRecord r = record_of("maria.garcia@acme-widgets.com", &facts);
  EXPECT_EQ(r.syntax_valid, TriState::yes);
  EXPECT_EQ(r.normalized.view(), "maria.garcia@acme-widgets.com");
  EXPECT_EQ(r.mx_found, TriState::yes);
  ASSERT_EQ(r.mx_record_count, 1u);
  EXPECT_EQ(r.mx_records[0].view(), "mx.acme-widgets.com");
  EXPECT_EQ(r.smtp_valid, TriState::yes);
  EXPECT_EQ(r.catch_all, TriState::no);
  EXPECT_EQ(r.smtp_code.value, 250);
  EXPECT_EQ(r.verdict.view(), "valid");
  EXPECT_EQ(r.verification_level.view(), "confirmed");
  EXPECT_TRUE(r.domain_age_days.present);
}

TEST(VerificationRecordFill, MoreIssuesThanFitAreCut) {
  // A long address full of findings still fills at most kMaxIssues issues.
  const VerificationRecord r = record_of("noreply.qwertyuiop.1234@mailinator.con", nullptr);
  EXPECT_LE(r.issue_count, kMaxIssues);
  EXPECT_GT(r.issue_count, 0u);
}

TEST(RecordJson, NestedFormWithNullsForWhatWasNotChecked) {
  const VerificationRecord r = record_of("jane@hotmial.con", nullptr);
  const auto json = nlohmann::json::parse(
      record_to_json("jane@hotmial.con", r, "", "2026-12-07 00:00:00+00", 1.5));
  EXPECT_EQ(json.at("email"), "jane@hotmial.con");
  EXPECT_EQ(json.at("verdict"), std::string(r.verdict.view()));
  EXPECT_EQ(json.at("score"), r.score);
  EXPECT_TRUE(json.at("checks").at("typo").at("has_typo").get<bool>());
  EXPECT_EQ(json.at("checks").at("typo").at("suggestion"), "jane@hotmail.com");
  EXPECT_TRUE(json.at("checks").at("smtp").at("valid").is_null());
  EXPECT_TRUE(json.at("checks").at("mx_records").at("records").is_null());
}

TEST(RecordJson, InvalidUtf8NeverReachesTheJson) {
  // The record holds only valid UTF-8 ('?' replaces bad bytes), so the JSON
  // text always parses.
  const VerificationRecord r = record_of("ja\xffne@acme-widgets.com", nullptr);
  EXPECT_NO_THROW(
      (void)nlohmann::json::parse(record_to_json("ja?ne@acme-widgets.com", r, "", "", 0.0)));
}

}  // namespace
}  // namespace mailsentry
