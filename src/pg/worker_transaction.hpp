// Runs a piece of the worker's database work in its own transaction, with
// SPI connected and a snapshot. An ERROR inside is logged as a WARNING and
// the transaction rolled back; the worker carries on. `body` must keep no
// C++ object with a destructor on its stack while it calls PostgreSQL.
#pragma once

namespace mailsentry::pg {

bool run_in_transaction(const char* what, void (*body)());

}  // namespace mailsentry::pg
