#include "net/bracketed_host.hpp"

namespace mailsentry {

std::optional<BracketedHost> split_bracketed_host(std::string_view text) {
  const std::size_t close = text.find(']');
  if (close == std::string_view::npos) return std::nullopt;
  BracketedHost result;
  result.host = text.substr(1, close - 1);
  const std::string_view after = text.substr(close + 1);
  if (!after.empty()) {
    if (after.front() != ':') return std::nullopt;
    result.port = after.substr(1);
  }
  return result;
}

}  // namespace mailsentry
