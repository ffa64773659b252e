#include "checks/public_suffix.hpp"

#include <libpsl.h>

#include <unordered_map>

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
  // Fast path: when the TLD itself is a rule of the list, any domain under it
  // ends in a known suffix. The answer per TLD is remembered (there are about
  // 1,500), which makes the common case a hash lookup.
  const std::size_t dot = ascii_domain.rfind('.');
  const std::string tld(dot == std::string_view::npos ? ascii_domain
                                                      : ascii_domain.substr(dot + 1));
  thread_local std::unordered_map<std::string, bool> tld_is_rule;
  auto it = tld_is_rule.find(tld);
  if (it == tld_is_rule.end() && tld_is_rule.size() < 4096) {
    // Without PSL_TYPE_NO_STAR_RULE any unknown TLD would count as a suffix.
    const bool rule = psl_is_public_suffix2(ctx, tld.c_str(), PSL_TYPE_ANY | PSL_TYPE_NO_STAR_RULE);
    it = tld_is_rule.emplace(tld, rule).first;
  }
  if (it != tld_is_rule.end() && it->second) return true;
  // Some TLDs are listed only through their second-level rules (co.za, ac.za):
  // ask for the domain's own suffix.
  const std::string domain(ascii_domain);
  const char* suffix = psl_unregistrable_domain(ctx, domain.c_str());
  return suffix && psl_is_public_suffix2(ctx, suffix, PSL_TYPE_ANY | PSL_TYPE_NO_STAR_RULE) != 0;
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
