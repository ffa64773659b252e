// mailsentry.* settings (GUCs).
#pragma once

namespace mailsentry::pg {

struct Settings {
  char* debug_fail_point;
};

extern Settings settings;

// Defines every GUC; called from _PG_init.
void define_settings();

}  // namespace mailsentry::pg
