#include "settings.hpp"

#include "postgres_headers.hpp"

extern "C" {
#include "utils/guc.h"
}

namespace mailsentry::pg {

Settings settings;

void define_settings() {
  DefineCustomStringVariable(
      "mailsentry.debug_fail_point",
      "Makes the named SQL entry point throw a C++ exception (tests the error guard).", nullptr,
      &settings.debug_fail_point, "", PGC_SUSET, GUC_NOT_IN_SAMPLE, nullptr, nullptr, nullptr);
}

}  // namespace mailsentry::pg
