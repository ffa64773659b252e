// IANA's RDAP bootstrap file (dns.json): RdapBootstrap::parse(), then
// base_urls_for(), domain_query_url() and parse_http_url() on what it gives,
// as a lookup does.
//
// Input: the JSON text, optionally followed by a NUL byte and a domain to look
// up (fixed domains are looked up too).
//
// Checked beyond "no crash, no UB, no leak": a parsed file has at least one
// entry, a failed one says why, and base_urls_for() returns only http(s)
// URLs with every https one before every http one.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"
#include "net/https_get.hpp"
#include "net/rdap_bootstrap.hpp"

using mailsentry::RdapBootstrap;
using mailsentry::fuzz::invariant_broken;

namespace {

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

void look_up(const RdapBootstrap& bootstrap, std::string_view domain, std::string_view input) {
  const std::vector<std::string> urls = bootstrap.base_urls_for(domain);
  bool seen_http = false;
  for (const std::string& url : urls) {
    const bool https = starts_with(url, "https://");
    if (!https && !starts_with(url, "http://"))
      invariant_broken("base URL that is not http(s)", input, url);
    if (https && seen_http) invariant_broken("https URL after an http one", input, url);
    seen_http = seen_http || !https;
    const std::string query = RdapBootstrap::domain_query_url(url, domain);
    volatile bool parsed = mailsentry::parse_http_url(query).has_value();
    (void)parsed;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string_view domain;
  if (const std::size_t nul = input.find('\0'); nul != std::string_view::npos) {
    domain = input.substr(nul + 1);
    input = input.substr(0, nul);
  }

  std::string error;
  const std::optional<RdapBootstrap> bootstrap = RdapBootstrap::parse(input, &error);
  if (!bootstrap) {
    if (error.empty()) invariant_broken("bootstrap refused without an error", input);
    return 0;
  }
  if (bootstrap->entry_count() == 0) invariant_broken("bootstrap parsed with no entry", input);
  volatile std::size_t publication = bootstrap->publication().size();
  (void)publication;

  for (std::string_view fixed : {"example.com", "example.co.uk", "a.b.example.net", "com",
                                 "EXAMPLE.ORG.", "", ".", "..", "xn--80ak6aa92e.xn--p1ai"}) {
    look_up(*bootstrap, fixed, input);
  }
  look_up(*bootstrap, domain, input);
  return 0;
}
