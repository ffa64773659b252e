// PostgreSQL's C headers, included with C linkage. Every file in src/pg that
// talks to PostgreSQL includes this first.
#pragma once

extern "C" {
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
}
