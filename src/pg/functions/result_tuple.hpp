// Turns a VerificationRecord into a row of the SQL type email_verification.
#pragma once

#include "base/postgres_headers.hpp"
#include "verdict/verification_record.hpp"

namespace mailsentry::pg {

struct RowTiming {
  TimestampTz checked_at;
  double response_time_ms;
};

constexpr int kResultColumnCount = 43;

// ERROR unless `desc` is the email_verification type this library knows.
void check_result_descriptor(TupleDesc desc);

// One row's values (kResultColumnCount of each), for a tuplestore.
void verification_record_values(Datum email, const VerificationRecord& record,
                                const RowTiming& timing, Datum* values, bool* nulls);

// `email` is the caller's argument, returned unchanged in the first field.
Datum verification_record_to_datum(FunctionCallInfo fcinfo, Datum email,
                                   const VerificationRecord& record, const RowTiming& timing);

}  // namespace mailsentry::pg
