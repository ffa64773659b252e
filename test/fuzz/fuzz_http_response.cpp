// Raw HTTP/1.1 responses: parse_http_response(), called the way the RDAP
// client calls it: on all the bytes received so far after each read
// (at_eof = false), then once more when the server closes (at_eof = true).
//
// The input is the raw response. It is parsed whole, and prefix by prefix
// in steps of 1 + size % 61 bytes (reads of that size), each with a large
// (1 MiB) and a small (16 bytes) body limit, so the seeds need no header.
//
// Checked beyond "no crash, no UB, no leak": a complete response never has a
// body over max_body_bytes, and its status is 200..599.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.hpp"
#include "net/https_get.hpp"

using mailsentry::HttpParseState;
using mailsentry::HttpResponse;
using mailsentry::fuzz::invariant_broken;

namespace {

HttpParseState parse(std::string_view raw, bool at_eof, std::size_t max_body) {
  HttpResponse response;
  const HttpParseState state = mailsentry::parse_http_response(raw, at_eof, max_body, response);
  if (state == HttpParseState::complete) {
    if (response.body.size() > max_body)
      invariant_broken("complete response with a body over max_body_bytes", raw);
    if (response.status < 200 || response.status > 599)
      invariant_broken("complete response with a status outside 200..599", raw);
  }
  return state;
}

void parse_as_read(std::string_view raw, std::size_t step, std::size_t max_body) {
  for (std::size_t end = step; end < raw.size(); end += step) {
    // The client stops reading at the first answer that is not "incomplete".
    if (parse(raw.substr(0, end), false, max_body) != HttpParseState::incomplete) return;
  }
  if (parse(raw, false, max_body) != HttpParseState::incomplete) return;
  parse(raw, true, max_body);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view raw(reinterpret_cast<const char*>(data), size);
  for (std::size_t max_body : {std::size_t{1024 * 1024}, std::size_t{16}}) {
    parse(raw, false, max_body);
    parse(raw, true, max_body);
    parse_as_read(raw, 1 + size % 61, max_body);
  }
  return 0;
}
