// Runs a piece of the worker's database work in its own transaction, with
// SPI connected and a snapshot. An ERROR inside is logged as a WARNING and
// the transaction rolled back; the worker carries on. `body` must keep no
// C++ object with a destructor on its stack while it calls PostgreSQL.
#pragma once

#include <initializer_list>

#include "base/postgres_headers.hpp"

namespace mailsentry::pg {

bool run_in_transaction(const char* what, void (*body)());
// The same, for a body that works on the caller's `state` (a round's
// CallContext, say).
bool run_in_transaction(const char* what, void (*body)(void*), void* state);

// Inside such a transaction: runs `sql` through SPI (the arguments of
// SPI_execute_with_args) and raises "`what` failed" unless SPI answers
// `expected`.
void spi_run(const char* what, int expected, const char* sql, int nargs, Oid* types, Datum* values,
             const char* nulls, bool read_only, long count);

// Whether every named relation exists in schema mailsentry (not while the
// extension is being created or after it was dropped).
bool mailsentry_relations_exist(std::initializer_list<const char*> names);

}  // namespace mailsentry::pg
