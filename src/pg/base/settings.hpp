// mailsentry.* settings (GUCs): their definitions, checks and the values
// in effect in this process.
#pragma once

#include "verdict/settings_values.hpp"

namespace mailsentry::pg {

using mailsentry::Settings;

extern Settings settings;

// Defines every GUC; called from _PG_init. Postmaster-only settings are
// defined in every process so their values can be shown and read.
void define_settings();

// mailsentry.verify_timeout as it takes effect: any role may lower its own,
// none may wait longer than mailsentry.max_verify_timeout. Read it here, not
// from settings.verify_timeout_ms.
int effective_verify_timeout_ms();

}  // namespace mailsentry::pg
