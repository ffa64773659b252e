// SQL helpers of mailsentry.submit: the submitted list taken once per exact
// text, numbered, in one pass (a GROUP BY and a sort over a million texts
// cost seconds in the caller's transaction; a hash set costs a fraction).
#include "base/postgres_headers.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/tuplestore.h"
}

#include <string_view>
#include <vector>

#include "base/guard.hpp"
#include "verdict/first_occurrences.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(mailsentry_distinct_elements);
}

// The entry points keep the C linkage PG_FUNCTION_INFO_V1 declared above.
namespace mailsentry::pg {

namespace {

// One element's bytes (in the database encoding: duplicates are exact texts).
struct ElementText {
  const char* data;
  std::size_t size;
};

}  // namespace

// mailsentry.distinct_elements(text[]) → (item bigint, element text): the
// non-NULL, non-empty elements, each exact text once, numbered from 1 in the
// order of first occurrence.
extern "C" Datum mailsentry_distinct_elements(PG_FUNCTION_ARGS) {
  ArrayType* array = PG_GETARG_ARRAYTYPE_P(0);
  InitMaterializedSRF(fcinfo, 0);
  ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);

  // PostgreSQL side: the elements as plain data (views into the array).
  Datum* elements = nullptr;
  bool* nulls = nullptr;
  int count = 0;
  deconstruct_array(array, TEXTOID, -1, false, TYPALIGN_INT, &elements, &nulls, &count);
  auto* texts = static_cast<ElementText*>(palloc(sizeof(ElementText) * (count + 1)));
  auto* present = static_cast<int*>(palloc(sizeof(int) * (count + 1)));  // index in `elements`
  int present_count = 0;
  for (int i = 0; i < count; ++i) {
    if (nulls[i]) continue;
    const text* element = reinterpret_cast<const text*>(DatumGetPointer(elements[i]));
    const std::size_t size = VARSIZE_ANY_EXHDR(element);
    if (size == 0) continue;
    texts[present_count] = {VARDATA_ANY(element), size};
    present[present_count++] = i;
  }

  // C++ side: which of them come first; written into plain data.
  auto* firsts = static_cast<int*>(palloc(sizeof(int) * (present_count + 1)));
  int first_count = 0;
  raise_if_failed(run_guarded("mailsentry.distinct_elements",
                              [&] {
                                std::vector<std::string_view> views;
                                views.reserve(static_cast<std::size_t>(present_count));
                                for (int i = 0; i < present_count; ++i)
                                  views.emplace_back(texts[i].data, texts[i].size);
                                for (const std::size_t index : first_occurrences(views))
                                  firsts[first_count++] = present[index];
                              }),
                  "mailsentry.distinct_elements");

  // PostgreSQL side: the rows.
  for (int i = 0; i < first_count; ++i) {
    Datum values[2] = {Int64GetDatum(static_cast<int64>(i) + 1), elements[firsts[i]]};
    bool row_nulls[2] = {false, false};
    tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, row_nulls);
  }
  return (Datum)0;
}

}  // namespace mailsentry::pg
