// SQL functions behind mailsentry's own tables: name validation for the
// override tables, the built-in lists and weights as rows, and the trigger
// that tells every backend to reload the overrides.
#include "base/postgres_headers.hpp"

extern "C" {
#include "commands/trigger.h"
#include "utils/inval.h"
#include "utils/tuplestore.h"
}

#include "base/guard.hpp"
#include "base/settings.hpp"
#include "base/text_encoding.hpp"
#include "checks/lists.hpp"
#include "queue/request_queue.hpp"
#include "verdict/score.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(mailsentry_list_name_valid);
PG_FUNCTION_INFO_V1(mailsentry_weight_name_valid);
PG_FUNCTION_INFO_V1(mailsentry_list_names);
PG_FUNCTION_INFO_V1(mailsentry_default_weights);
PG_FUNCTION_INFO_V1(mailsentry_builtin_list);
PG_FUNCTION_INFO_V1(mailsentry_overrides_changed);
PG_FUNCTION_INFO_V1(mailsentry_worker_database);
}

// The entry points keep the C linkage PG_FUNCTION_INFO_V1 declared above.
namespace mailsentry::pg {

extern "C" Datum mailsentry_list_name_valid(PG_FUNCTION_ARGS) {
  const char* name = text_to_cstring(PG_GETARG_TEXT_PP(0));
  bool known = false;
  raise_if_failed(run_guarded("mailsentry_list_name_valid",
                              [&] {
                                for (std::string_view list : Lists::names()) known |= list == name;
                              }),
                  "mailsentry_list_name_valid");
  PG_RETURN_BOOL(known);
}

extern "C" Datum mailsentry_weight_name_valid(PG_FUNCTION_ARGS) {
  const char* name = text_to_cstring(PG_GETARG_TEXT_PP(0));
  bool known = false;
  raise_if_failed(run_guarded("mailsentry_weight_name_valid",
                              [&] {
                                for (const auto& field : Weights::fields())
                                  known |= field.name == name;
                              }),
                  "mailsentry_weight_name_valid");
  PG_RETURN_BOOL(known);
}

extern "C" Datum mailsentry_list_names(PG_FUNCTION_ARGS) {
  // A scalar set: the descriptor comes from the caller's expectation.
  InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
  ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
  // Built on first use (which may throw), then read as plain views of literals.
  const std::vector<std::string_view>* names = nullptr;
  raise_if_failed(run_guarded("mailsentry.list_names", [&] { names = &Lists::names(); }),
                  "mailsentry.list_names");
  for (std::size_t i = 0; i < names->size(); ++i) {
    const std::string_view name = (*names)[i];
    Datum value = PointerGetDatum(cstring_to_text_with_len(name.data(), name.size()));
    bool is_null = false;
    tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &value, &is_null);
  }
  return (Datum)0;
}

extern "C" Datum mailsentry_default_weights(PG_FUNCTION_ARGS) {
  InitMaterializedSRF(fcinfo, 0);
  ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
  const Weights defaults;
  // Built on first use (which may throw); plain data after that.
  const std::vector<Weights::Field>* fields = nullptr;
  raise_if_failed(run_guarded("mailsentry.default_weights", [&] { fields = &Weights::fields(); }),
                  "mailsentry.default_weights");
  for (std::size_t i = 0; i < fields->size(); ++i) {
    const Weights::Field& field = (*fields)[i];
    Datum values[3];
    bool nulls[3] = {false, false, false};
    values[0] = PointerGetDatum(cstring_to_text_with_len(field.name.data(), field.name.size()));
    values[1] = Int32GetDatum(defaults.*field.member);
    values[2] =
        PointerGetDatum(cstring_to_text_with_len(field.meaning.data(), field.meaning.size()));
    tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
  }
  return (Datum)0;
}

extern "C" Datum mailsentry_builtin_list(PG_FUNCTION_ARGS) {
  const char* name = text_to_cstring(PG_GETARG_TEXT_PP(0));
  InitMaterializedSRF(fcinfo, 0);
  ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);

  // The shipped lists, without this backend's overrides; built on first use.
  static Lists builtin_lists_for_listing;
  static bool constructed = false;
  const NamedList* list = nullptr;
  std::size_t count = 0;
  raise_if_failed(run_guarded("mailsentry_builtin_list",
                              [&] {
                                if (!constructed) {
                                  builtin_lists_for_listing = Lists::builtin();
                                  constructed = true;
                                }
                                list = builtin_lists_for_listing.by_name(name);
                                if (list != nullptr)
                                  list->for_each([&](const BuiltinEntry&) { ++count; });
                              }),
                  "mailsentry_builtin_list");
  if (list == nullptr)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("mailsentry: no built-in list called \"%s\"", name),
                    errhint("SELECT * FROM mailsentry.list_names() shows the lists.")));
  // The entries (plain views of static data) are copied into palloc'd
  // memory by C++ code that calls no PostgreSQL function; the rows are then
  // built outside any C++ frame.
  auto* entries = static_cast<BuiltinEntry*>(palloc(sizeof(BuiltinEntry) * (count + 1)));
  std::size_t filled = 0;
  raise_if_failed(run_guarded("mailsentry_builtin_list",
                              [&] {
                                list->for_each([&](const BuiltinEntry& entry) {
                                  if (filled < count) entries[filled++] = entry;
                                });
                              }),
                  "mailsentry_builtin_list");
  for (std::size_t i = 0; i < filled; ++i) {
    const BuiltinEntry& entry = entries[i];
    Datum values[2];
    bool nulls[2] = {false, entry.detail.empty()};
    values[0] = PointerGetDatum(utf8_to_text(entry.key.data(), entry.key.size()));
    values[1] = nulls[1] ? (Datum)0
                         : PointerGetDatum(utf8_to_text(entry.detail.data(), entry.detail.size()));
    tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
  }
  return (Datum)0;
}

// Statement trigger on the override tables: a relcache invalidation of the
// table reaches every backend when the change commits (and this backend at
// once), and is undone by a rollback, so overrides take effect exactly when
// they become visible.
extern "C" Datum mailsentry_overrides_changed(PG_FUNCTION_ARGS) {
  if (!CALLED_AS_TRIGGER(fcinfo))
    ereport(ERROR,
            (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
             errmsg("mailsentry: mailsentry_overrides_changed must be called as a trigger")));
  TriggerData* trigger = reinterpret_cast<TriggerData*>(fcinfo->context);
  CacheInvalidateRelcache(trigger->tg_relation);
  return PointerGetDatum(nullptr);
}

extern "C" Datum mailsentry_worker_database(PG_FUNCTION_ARGS) {
  if (shared_queue == nullptr || settings.database == nullptr) PG_RETURN_NULL();
  PG_RETURN_TEXT_P(cstring_to_text(settings.database));
}

}  // namespace mailsentry::pg
