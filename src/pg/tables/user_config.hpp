// The user's list overrides and score weights (tables in schema mailsentry),
// cached per backend and reloaded when the tables change.
#pragma once

#include "checks/lists.hpp"
#include "checks/typo.hpp"
#include "verdict/score.hpp"

namespace mailsentry::pg {

// Called once from _PG_init.
void register_user_config_invalidation();

// Reloads the overrides if a change was committed (or made by this
// transaction) since the last load. PostgreSQL side: may ereport.
void ensure_user_config_current();

// Changes every time the overrides are reloaded (the worker reconfigures then).
unsigned long long user_config_version();

// The effective lists and weights; valid after ensure_user_config_current().
const Lists& current_lists();
// The typo memo of the current lists (cleared whenever they are reloaded).
TypoMemo& current_typo_memo();
const Weights& current_weights();

}  // namespace mailsentry::pg
