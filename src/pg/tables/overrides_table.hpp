// mailsentry.list_overrides and mailsentry.weight_overrides: the user's
// entries added to or removed from the built-in lists, and score weights.
// PostgreSQL side: SPI connected; may ereport.
#pragma once

#include "base/postgres_headers.hpp"
#include "checks/lists.hpp"
#include "verdict/score.hpp"

namespace mailsentry::pg {

// The two tables' OIDs; InvalidOid while the extension does not exist.
struct OverrideTables {
  Oid lists;
  Oid weights;
};
OverrideTables find_override_tables();

// Applies every row to `lists` / `weights`.
void apply_list_overrides(Lists& lists);
void apply_weight_overrides(Weights& weights);

}  // namespace mailsentry::pg
