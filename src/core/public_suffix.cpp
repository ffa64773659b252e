#include "public_suffix.hpp"

#include <libpsl.h>

namespace mailsentry {

namespace {

// The PSL from the system's publicsuffix package when present (newer than
// the copy built into libpsl), else libpsl's built-in data.
const psl_ctx_t* suffix_list() {
  static const psl_ctx_t* const ctx = [] {
    const psl_ctx_t* latest = psl_latest(nullptr);
    return latest ? latest : psl_builtin();
  }();
  return ctx;
}

}  // namespace

bool public_suffix_known(std::string_view ascii_domain) {
  const psl_ctx_t* ctx = suffix_list();
  if (!ctx) return false;
  std::string domain(ascii_domain);
  const char* suffix = psl_unregistrable_domain(ctx, domain.c_str());
  if (!suffix) return false;
  // psl_is_public_suffix2 without PSL_TYPE_NO_STAR_RULE treats any unknown
  // TLD as a suffix; asking with NO_STAR_RULE tells a listed suffix apart.
  return psl_is_public_suffix2(ctx, suffix, PSL_TYPE_ANY | PSL_TYPE_NO_STAR_RULE) != 0;
}

std::string registrable_domain(std::string_view ascii_domain) {
  const psl_ctx_t* ctx = suffix_list();
  if (!ctx) return {};
  std::string domain(ascii_domain);
  const char* registrable = psl_registrable_domain(ctx, domain.c_str());
  return registrable ? std::string(registrable) : std::string();
}

std::string public_suffix(std::string_view ascii_domain) {
  const psl_ctx_t* ctx = suffix_list();
  if (!ctx) return {};
  std::string domain(ascii_domain);
  const char* suffix = psl_unregistrable_domain(ctx, domain.c_str());
  return suffix ? std::string(suffix) : std::string();
}

}  // namespace mailsentry
