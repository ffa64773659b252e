#include "checks/idn.hpp"

#include <idn2.h>

#include <array>
#include <functional>
#include <memory>

namespace mailsentry {
namespace {

struct Idn2Free {
  void operator()(char* text) const { idn2_free(text); }
};
using Idn2String = std::unique_ptr<char, Idn2Free>;

std::string describe_failure(const char* what, int rc) {
  std::string text(what);
  text += ": ";
  text += idn2_strerror(rc);
  return text;
}

IdnFailure failure_of(int rc) {
  switch (rc) {
    // "Big output" is libidn2 saying an A-label would not fit in 63 octets.
    case IDN2_PUNYCODE_BIG_OUTPUT:
    case IDN2_TOO_BIG_LABEL:
      return IdnFailure::label_too_long;
    case IDN2_TOO_BIG_DOMAIN:
      return IdnFailure::domain_too_long;
    default:
      return IdnFailure::invalid;
  }
}

IdnDomain convert_uncached(const std::string& domain) {
  IdnDomain result;
  char* raw = nullptr;
  // No IDN2_USE_STD3_ASCII_RULES: with it libidn2 silently drops some mapped
  // characters (U+037E would vanish instead of becoming ";").
  int rc = idn2_to_ascii_8z(domain.c_str(), &raw, IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT);
  Idn2String ascii(raw);
  if (rc != IDN2_OK) {
    result.failure = failure_of(rc);
    result.error = describe_failure("invalid internationalised domain name", rc);
    return result;
  }
  result.ascii = ascii.get();
  for (char& c : result.ascii) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }

  raw = nullptr;
  rc = idn2_to_unicode_8z8z(result.ascii.c_str(), &raw, 0);
  Idn2String unicode(raw);
  // Display only: fall back to the A-labels rather than reject.
  result.unicode = rc == IDN2_OK ? std::string(unicode.get()) : result.ascii;
  result.ok = true;
  return result;
}

// Bulk checks meet the same few IDN domains again and again; a small
// direct-mapped memo avoids most libidn2 calls.
struct CacheEntry {
  std::string domain;
  IdnDomain converted;
};
constexpr std::size_t kCacheSlots = 256;

}  // namespace

IdnDomain convert_idn_domain(std::string_view domain) {
  thread_local std::array<CacheEntry, kCacheSlots> cache;
  CacheEntry& slot = cache[std::hash<std::string_view>{}(domain) % kCacheSlots];
  if (slot.domain.empty() || slot.domain != domain) {
    std::string key(domain);  // libidn2 wants NUL-terminated text
    IdnDomain converted = convert_uncached(key);
    // Key and value change together, so a failed allocation never leaves a mismatch.
    slot.converted = std::move(converted);
    slot.domain = std::move(key);
  }
  return slot.converted;
}

}  // namespace mailsentry
