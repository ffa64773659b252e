#include "verdict/record_json.hpp"

#include <nlohmann/json.hpp>

namespace mailsentry {

namespace {

using Json = nlohmann::ordered_json;

// Date of the disposable list's upstream commit (data/README.md).
constexpr const char* kDisposableListUpdated = "2026-08-21";

template <std::size_t N>
Json text(const FixedText<N>& field) {
  return field.present ? Json(std::string(field.bytes, field.size)) : Json(nullptr);
}

Json boolean(TriState value) {
  return value == TriState::null ? Json(nullptr) : Json(value == TriState::yes);
}

Json integer(const NullableInt& value) { return value.present ? Json(value.value) : Json(nullptr); }

}  // namespace

std::string record_to_json(std::string_view email, const VerificationRecord& r,
                           std::string_view domain_created, std::string_view checked_at,
                           double response_time_ms) {
  Json issues = Json::array();
  for (std::uint32_t i = 0; i < r.issue_count; ++i) issues.push_back(text(r.issues[i]));
  Json mx_records = Json::array();
  for (std::uint32_t i = 0; i < r.mx_record_count; ++i) mx_records.push_back(text(r.mx_records[i]));

  Json checks = {
      {"syntax",
       {{"valid", boolean(r.syntax_valid)},
        {"normalized", text(r.normalized)},
        {"plus_alias", text(r.plus_alias)}}},
      {"mx_records",
       {{"valid", boolean(r.mx_found)},
        {"records", r.mx_found == TriState::null ? Json(nullptr) : mx_records}}},
      {"disposable",
       {{"is_disposable", boolean(r.is_disposable)}, {"list_updated", kDisposableListUpdated}}},
      {"role_based",
       {{"is_role_based", boolean(r.is_role_based)}, {"role_type", text(r.role_type)}}},
      {"free_provider",
       {{"is_free", boolean(r.is_free)},
        {"name", text(r.provider_name)},
        {"is_business", boolean(r.is_business)},
        {"mx_provider", text(r.mx_provider)}}},
      {"typo", {{"has_typo", boolean(r.has_typo)}, {"suggestion", text(r.suggestion)}}},
      {"smtp",
       {{"valid", boolean(r.smtp_valid)},
        {"catch_all", boolean(r.catch_all)},
        {"mx_host", text(r.mx_host)},
        {"greylisted", boolean(r.greylisted)},
        {"catch_all_confidence", integer(r.catch_all_confidence)},
        {"code", integer(r.smtp_code)},
        {"message", text(r.smtp_message)}}},
      {"gibberish",
       {{"is_gibberish", boolean(r.is_gibberish)},
        {"score", integer(r.gibberish_score)},
        {"pattern", text(r.gibberish_pattern)}}},
      {"spam_trap",
       {{"is_potential_trap", boolean(r.is_potential_trap)},
        {"type", text(r.trap_type)},
        {"confidence", integer(r.trap_confidence)}}},
      {"domain_age",
       {{"domain_created",
         domain_created.empty() ? Json(nullptr) : Json(std::string(domain_created))},
        {"age_days", integer(r.domain_age_days)},
        {"risk_flag", text(r.domain_risk_flag)}}},
      {"abuse", {{"is_toxic", boolean(r.is_toxic)}, {"type", text(r.abuse_type)}}},
  };
  Json result = {
      {"email", std::string(email)},
      {"score", r.score},
      {"verdict", text(r.verdict)},
      {"recommendation", text(r.recommendation)},
      {"verification_level", text(r.verification_level)},
      {"verification_depth", text(r.verification_depth)},
      {"warning", text(r.warning)},
      {"issues", issues},
      {"checks", checks},
      {"checked_at", std::string(checked_at)},
      {"cached", r.cached},
      {"response_time_ms", response_time_ms},
  };
  // Invalid UTF-8 in the email (SQL_ASCII databases) is replaced, not thrown.
  return result.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace mailsentry
