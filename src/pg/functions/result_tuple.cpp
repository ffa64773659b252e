#include "functions/result_tuple.hpp"

extern "C" {
#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/date.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"
}

#include "base/fixed_text_datum.hpp"
#include "base/text_encoding.hpp"

namespace mailsentry::pg {

namespace {

// Column order of the SQL type email_verification (mailsentry--*.sql).
// Checked against the catalog once per call site, so the two cannot drift.
enum Column {
  kEmail,
  kNormalized,
  kScore,
  kVerdict,
  kRecommendation,
  kVerificationLevel,
  kVerificationDepth,
  kWarning,
  kIssues,
  kSyntaxValid,
  kPlusAlias,
  kMxFound,
  kMxRecords,
  kIsDisposable,
  kIsRoleBased,
  kRoleType,
  kIsFree,
  kProviderName,
  kIsBusiness,
  kMxProvider,
  kHasTypo,
  kSuggestion,
  kSmtpValid,
  kCatchAll,
  kMxHost,
  kGreylisted,
  kCatchAllConfidence,
  kSmtpCode,
  kSmtpMessage,
  kIsGibberish,
  kGibberishScore,
  kGibberishPattern,
  kIsPotentialTrap,
  kTrapType,
  kTrapConfidence,
  kDomainCreated,
  kDomainAgeDays,
  kDomainRiskFlag,
  kIsToxic,
  kAbuseType,
  kCheckedAt,
  kCached,
  kResponseTimeMs,
  kColumnCount
};

static_assert(kColumnCount == kResultColumnCount, "see result_tuple.hpp");

const char* const kColumnNames[kColumnCount] = {"email",
                                                "normalized",
                                                "score",
                                                "verdict",
                                                "recommendation",
                                                "verification_level",
                                                "verification_depth",
                                                "warning",
                                                "issues",
                                                "syntax_valid",
                                                "plus_alias",
                                                "mx_found",
                                                "mx_records",
                                                "is_disposable",
                                                "is_role_based",
                                                "role_type",
                                                "is_free",
                                                "provider_name",
                                                "is_business",
                                                "mx_provider",
                                                "has_typo",
                                                "suggestion",
                                                "smtp_valid",
                                                "catch_all",
                                                "mx_host",
                                                "greylisted",
                                                "catch_all_confidence",
                                                "smtp_code",
                                                "smtp_message",
                                                "is_gibberish",
                                                "gibberish_score",
                                                "gibberish_pattern",
                                                "is_potential_trap",
                                                "trap_type",
                                                "trap_confidence",
                                                "domain_created",
                                                "domain_age_days",
                                                "domain_risk_flag",
                                                "is_toxic",
                                                "abuse_type",
                                                "checked_at",
                                                "cached",
                                                "response_time_ms"};

}  // namespace

void check_result_descriptor(TupleDesc desc) {
  if (desc->natts != kColumnCount)
    ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                    errmsg("mailsentry: type email_verification has %d columns, the library "
                           "expects %d",
                           desc->natts, static_cast<int>(kColumnCount)),
                    errhint("Run ALTER EXTENSION mailsentry UPDATE.")));
  for (int i = 0; i < kColumnCount; ++i) {
    if (strcmp(NameStr(TupleDescAttr(desc, i)->attname), kColumnNames[i]) != 0)
      ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                      errmsg("mailsentry: column %d of email_verification is \"%s\", the "
                             "library expects \"%s\"",
                             i + 1, NameStr(TupleDescAttr(desc, i)->attname), kColumnNames[i])));
  }
}

namespace {

TupleDesc result_descriptor(FunctionCallInfo fcinfo) {
  if (fcinfo->flinfo->fn_extra != nullptr) return static_cast<TupleDesc>(fcinfo->flinfo->fn_extra);
  TupleDesc desc;
  if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE)
    ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                    errmsg("mailsentry: function returning email_verification called in a "
                           "context that cannot accept a composite")));
  check_result_descriptor(desc);
  MemoryContext old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
  desc = BlessTupleDesc(CreateTupleDescCopy(desc));
  MemoryContextSwitchTo(old);
  fcinfo->flinfo->fn_extra = desc;
  return desc;
}

template <std::size_t N>
void put_text(Datum* values, bool* nulls, int column, const FixedText<N>& field) {
  if (!field.present) {
    nulls[column] = true;
    return;
  }
  values[column] = PointerGetDatum(utf8_to_text(field.bytes, field.size));
}

void put_bool(Datum* values, bool* nulls, int column, TriState field) {
  if (field == TriState::null)
    nulls[column] = true;
  else
    values[column] = BoolGetDatum(field == TriState::yes);
}

void put_int(Datum* values, bool* nulls, int column, const NullableInt& field) {
  if (!field.present)
    nulls[column] = true;
  else
    values[column] = Int32GetDatum(field.value);
}

}  // namespace

void verification_record_values(Datum email, const VerificationRecord& r, const RowTiming& timing,
                                Datum* values, bool* nulls) {
  memset(nulls, 0, sizeof(bool) * kColumnCount);
  memset(values, 0, sizeof(Datum) * kColumnCount);

  values[kEmail] = email;
  put_text(values, nulls, kNormalized, r.normalized);
  values[kScore] = Int32GetDatum(r.score);
  put_text(values, nulls, kVerdict, r.verdict);
  put_text(values, nulls, kRecommendation, r.recommendation);
  put_text(values, nulls, kVerificationLevel, r.verification_level);
  put_text(values, nulls, kVerificationDepth, r.verification_depth);
  put_text(values, nulls, kWarning, r.warning);
  values[kIssues] = fixed_text_array(r.issues, r.issue_count);
  put_bool(values, nulls, kSyntaxValid, r.syntax_valid);
  put_text(values, nulls, kPlusAlias, r.plus_alias);
  put_bool(values, nulls, kMxFound, r.mx_found);
  if (r.mx_found == TriState::null)
    nulls[kMxRecords] = true;
  else
    values[kMxRecords] = fixed_text_array(r.mx_records, r.mx_record_count);
  put_bool(values, nulls, kIsDisposable, r.is_disposable);
  put_bool(values, nulls, kIsRoleBased, r.is_role_based);
  put_text(values, nulls, kRoleType, r.role_type);
  put_bool(values, nulls, kIsFree, r.is_free);
  put_text(values, nulls, kProviderName, r.provider_name);
  put_bool(values, nulls, kIsBusiness, r.is_business);
  put_text(values, nulls, kMxProvider, r.mx_provider);
  put_bool(values, nulls, kHasTypo, r.has_typo);
  put_text(values, nulls, kSuggestion, r.suggestion);
  put_bool(values, nulls, kSmtpValid, r.smtp_valid);
  put_bool(values, nulls, kCatchAll, r.catch_all);
  put_text(values, nulls, kMxHost, r.mx_host);
  put_bool(values, nulls, kGreylisted, r.greylisted);
  put_int(values, nulls, kCatchAllConfidence, r.catch_all_confidence);
  put_int(values, nulls, kSmtpCode, r.smtp_code);
  put_text(values, nulls, kSmtpMessage, r.smtp_message);
  put_bool(values, nulls, kIsGibberish, r.is_gibberish);
  put_int(values, nulls, kGibberishScore, r.gibberish_score);
  put_text(values, nulls, kGibberishPattern, r.gibberish_pattern);
  put_bool(values, nulls, kIsPotentialTrap, r.is_potential_trap);
  put_text(values, nulls, kTrapType, r.trap_type);
  put_int(values, nulls, kTrapConfidence, r.trap_confidence);
  if (r.domain_created_days.present)
    values[kDomainCreated] =
        DateADTGetDatum(r.domain_created_days.value - (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE));
  else
    nulls[kDomainCreated] = true;
  put_int(values, nulls, kDomainAgeDays, r.domain_age_days);
  put_text(values, nulls, kDomainRiskFlag, r.domain_risk_flag);
  put_bool(values, nulls, kIsToxic, r.is_toxic);
  put_text(values, nulls, kAbuseType, r.abuse_type);
  values[kCheckedAt] = TimestampTzGetDatum(timing.checked_at);
  values[kCached] = BoolGetDatum(r.cached);
  values[kResponseTimeMs] = Float8GetDatum(timing.response_time_ms);
}

Datum verification_record_to_datum(FunctionCallInfo fcinfo, Datum email,
                                   const VerificationRecord& r, const RowTiming& timing) {
  TupleDesc desc = result_descriptor(fcinfo);
  Datum values[kColumnCount];
  bool nulls[kColumnCount];
  verification_record_values(email, r, timing, values, nulls);
  return HeapTupleGetDatum(heap_form_tuple(desc, values, nulls));
}

}  // namespace mailsentry::pg
