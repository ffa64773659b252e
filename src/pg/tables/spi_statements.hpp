// Writing plain data through SPI: the parameters of one statement, and
// statements prepared once and kept for the life of the worker.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

#include "base/postgres_headers.hpp"
#include "base/text_encoding.hpp"
#include "verdict/network_pod.hpp"

extern "C" {
#include "executor/spi.h"
#include "utils/date.h"
}

namespace mailsentry::pg {

// Parameter i is $(i+1); every one starts out non-NULL and zero.
template <int N>
struct SpiParams {
  Datum values[N];
  char nulls[N];

  SpiParams() {
    memset(values, 0, sizeof values);
    memset(nulls, ' ', sizeof nulls);
  }
  void set(int i, Datum value) { values[i] = value; }
  void set_null(int i) { nulls[i] = 'n'; }
  // UTF-8 text in the database encoding.
  template <std::size_t M>
  void text(int i, const FixedText<M>& value) {
    if (value.present)
      values[i] = PointerGetDatum(utf8_to_text(value.bytes, value.size));
    else
      set_null(i);
  }
  void boolean(int i, TriState value) {
    if (value == TriState::null)
      set_null(i);
    else
      values[i] = BoolGetDatum(value == TriState::yes);
  }
  // Days since 1970-01-01 as a date.
  void date(int i, NullableInt unix_days) {
    if (unix_days.present)
      values[i] = DateADTGetDatum(unix_days.value - (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE));
    else
      set_null(i);
  }
};

// A statement prepared on first use and kept: the worker runs the same few
// writes for every batch.
struct KeptStatement {
  const char* what;  // for the error message: "writing the cache"
  const char* sql;
  int nargs;
  const Oid* types;
  SPIPlanPtr plan;  // nullptr until first used
};

// Runs an INSERT or UPDATE; raises "mailsentry: <what> failed" on anything
// else. SPI connected.
void execute_kept(KeptStatement& statement, Datum* values, const char* nulls);

// Frees every kept plan; each is prepared again at its next use (after an
// error aborted the transaction that used them; the extension may have been
// re-created meanwhile).
void forget_kept_statements();

}  // namespace mailsentry::pg
