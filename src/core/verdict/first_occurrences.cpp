#include "verdict/first_occurrences.hpp"

#include <unordered_set>

namespace mailsentry {

std::vector<std::size_t> first_occurrences(const std::vector<std::string_view>& texts) {
  std::vector<std::size_t> firsts;
  firsts.reserve(texts.size());
  std::unordered_set<std::string_view> seen;
  seen.reserve(texts.size());
  for (std::size_t i = 0; i < texts.size(); ++i)
    if (seen.insert(texts[i]).second) firsts.push_back(i);
  return firsts;
}

}  // namespace mailsentry
