// verify_emails(): many addresses in one call, through the backend path
// (pipeline/backend_verification). Network-free verdicts and fresh cache
// entries are returned first (in input order), the others as the worker
// answers them. The worker writes every verdict to the cache before it
// answers, so a cancel keeps the ones already reached.
#include "base/postgres_headers.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/memutils.h"
#include "utils/tuplestore.h"
}

#include "base/text_encoding.hpp"
#include "functions/depth_argument.hpp"
#include "functions/result_tuple.hpp"
#include "pipeline/backend_verification.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(verify_emails);
}

namespace mailsentry::pg {
namespace {

// Puts each finished input into the result set.
struct RowsOut {
  ResultSink sink;  // first member: the sink handed to the path is the output
  Tuplestorestate* store;
  TupleDesc desc;
  MemoryContext row_context;
};

void put_row(ResultSink* sink, const AddressBatch& batch, std::size_t input,
             TimestampTz checked_at) {
  RowsOut* out = reinterpret_cast<RowsOut*>(sink);
  MemoryContext old = MemoryContextSwitchTo(out->row_context);
  const std::string& text = batch.inputs[input].text;
  Datum values[kResultColumnCount];
  bool nulls[kResultColumnCount];
  verification_record_values(PointerGetDatum(utf8_to_text(text.data(), text.size())), batch.record,
                             row_timing(batch, checked_at), values, nulls);
  tuplestore_putvalues(out->store, out->desc, values, nulls);
  MemoryContextSwitchTo(old);
  MemoryContextReset(out->row_context);
}

}  // namespace
}  // namespace mailsentry::pg

// The entry points keep the C linkage PG_FUNCTION_INFO_V1 declared above.
namespace mailsentry::pg {

extern "C" Datum verify_emails(PG_FUNCTION_ARGS) {
  BatchOptions options;
  options.entry_point = "verify_emails";
  options.submitting_point = "verify_emails submitting";
  options.finishing_point = "verify_emails finishing";
  if (PG_NARGS() > 1 && !PG_ARGISNULL(1))
    options.depth_text = text_to_cstring(PG_GETARG_TEXT_PP(1));
  options.depth = depth_from_argument(options.depth_text);
  options.refresh = PG_NARGS() > 2 && !PG_ARGISNULL(2) && PG_GETARG_BOOL(2);

  // The non-NULL inputs, as UTF-8.
  Datum* elements;
  bool* element_nulls;
  int element_count;
  deconstruct_array(PG_GETARG_ARRAYTYPE_P(0), TEXTOID, -1, false, TYPALIGN_INT, &elements,
                    &element_nulls, &element_count);
  Utf8Text* texts = static_cast<Utf8Text*>(palloc(sizeof(Utf8Text) * (element_count + 1)));
  int text_count = 0;
  for (int i = 0; i < element_count; ++i)
    if (!element_nulls[i]) texts[text_count++] = text_as_utf8(DatumGetTextPP(elements[i]));

  InitMaterializedSRF(fcinfo, 0);
  ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
  check_result_descriptor(rsinfo->setDesc);
  RowsOut out{{put_row},
              rsinfo->setResult,
              rsinfo->setDesc,
              AllocSetContextCreate(CurrentMemoryContext, "mailsentry verify_emails row",
                                    ALLOCSET_SMALL_SIZES)};
  verify_in_backend(options, texts, text_count, out.sink);
  return (Datum)0;
}

}  // namespace mailsentry::pg
