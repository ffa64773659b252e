// The C++/PostgreSQL boundary. C++ code runs only inside run_guarded(), which
// catches every exception and records it as plain data; the caller raises the
// ERROR with raise_if_failed() after the guarded scope has ended, so neither a
// C++ exception nor a PostgreSQL longjmp ever crosses the other's frames.
#pragma once

#include <cstdio>
#include <cstring>
#include <exception>
#include <new>
#include <stdexcept>

#include "base/postgres_headers.hpp"

namespace mailsentry::pg {

struct GuardResult {
  bool failed;
  int sqlstate;
  char message[256];
};

// Marks a failure a test can provoke on purpose (mailsentry.debug_fail_point).
struct InjectedFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Throws InjectedFailure when mailsentry.debug_fail_point names this entry point.
void maybe_inject_failure(const char* entry_point);

template <typename Body>
GuardResult run_guarded(const char* entry_point, Body&& body) noexcept {
  GuardResult result{false, 0, {0}};
  auto fail = [&result](int sqlstate, const char* what) {
    result.failed = true;
    result.sqlstate = sqlstate;
    snprintf(result.message, sizeof result.message, "%s", what);
  };
  try {
    maybe_inject_failure(entry_point);
    body();
  } catch (const std::bad_alloc&) {
    fail(ERRCODE_OUT_OF_MEMORY, "out of memory in mailsentry");
  } catch (const std::invalid_argument& e) {
    fail(ERRCODE_INVALID_PARAMETER_VALUE, e.what());
  } catch (const std::exception& e) {
    fail(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION, e.what());
  } catch (...) {
    fail(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION, "unknown C++ exception");
  }
  return result;
}

// Raises the ERROR a failed guarded call recorded. Call only after the
// guarded scope has ended (no C++ object with a destructor alive above here).
inline void raise_if_failed(const GuardResult& result, const char* entry_point) {
  if (!result.failed) return;
  ereport(ERROR, (errcode(result.sqlstate),
                  errmsg("mailsentry: %s failed: %s", entry_point, result.message)));
}

}  // namespace mailsentry::pg
