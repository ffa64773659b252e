// The lists generated from data/ by tools/embed_lists.sh at build time.
#pragma once

#include <cstddef>

#include "checks/lists.hpp"

namespace mailsentry::data {

#define MAILSENTRY_BUILTIN_LIST(sym)  \
  extern const BuiltinEntry k##sym[]; \
  extern const std::size_t k##sym##Count;

MAILSENTRY_BUILTIN_LIST(Disposable)
MAILSENTRY_BUILTIN_LIST(DisposableAllowlist)
MAILSENTRY_BUILTIN_LIST(FreeProviders)
MAILSENTRY_BUILTIN_LIST(Providers)
MAILSENTRY_BUILTIN_LIST(Roles)
MAILSENTRY_BUILTIN_LIST(PopularDomainsRanked)
MAILSENTRY_BUILTIN_LIST(PopularDomains)
MAILSENTRY_BUILTIN_LIST(PopularSlds)
MAILSENTRY_BUILTIN_LIST(PopularTlds)
MAILSENTRY_BUILTIN_LIST(AbuseDomains)
MAILSENTRY_BUILTIN_LIST(TrapDomains)
MAILSENTRY_BUILTIN_LIST(TrapLocalParts)
MAILSENTRY_BUILTIN_LIST(AntiProbeMx)
MAILSENTRY_BUILTIN_LIST(MxProviders)

#undef MAILSENTRY_BUILTIN_LIST

}  // namespace mailsentry::data
