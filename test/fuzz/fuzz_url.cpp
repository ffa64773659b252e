// URLs of RDAP servers: parse_http_url() and HttpUrl::host_header().
//
// Checked beyond "no crash, no UB, no leak", for an accepted URL: the host is
// not empty, the port is not 0, and the request target starts with '/' and
// holds no space or control byte (it goes into the request line).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "net/https_get.hpp"

using mailsentry::fuzz::invariant_broken;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::optional<mailsentry::HttpUrl> url = mailsentry::parse_http_url(input);
  if (!url) return 0;
  if (url->host.empty()) invariant_broken("accepted URL with an empty host", input);
  if (url->port == 0) invariant_broken("accepted URL with port 0", input);
  if (url->target.empty() || url->target.front() != '/')
    invariant_broken("request target does not start with '/'", input, url->target);
  for (unsigned char c : url->target) {
    if (c <= ' ' || c == 0x7f)
      invariant_broken("request target holds a space or control byte", input, url->target);
  }
  const std::string host = url->host_header();
  if (host.empty()) invariant_broken("empty Host header", input);
  return 0;
}
