// "[host]" and "[host]:port", the way an IPv6 literal is written next to a
// port in server settings and URLs.
#pragma once

#include <optional>
#include <string_view>

namespace mailsentry {

struct BracketedHost {
  std::string_view host;                 // inside the brackets
  std::optional<std::string_view> port;  // after the ':' ("" for "[host]:"); none without one
};

// `text` starts with '['; nullopt when the ']' is missing or anything but
// ":port" follows it.
std::optional<BracketedHost> split_bracketed_host(std::string_view text);

}  // namespace mailsentry
