#include "verdict/recent_writes.hpp"

namespace mailsentry {

RecentWrites::RecentWrites(std::int64_t refresh_us, std::size_t max_rows)
    : refresh_us_(refresh_us), max_rows_(max_rows) {}

bool RecentWrites::needs_write(std::string_view key, std::uint64_t digest,
                               std::int64_t now_us) const {
  key_.assign(key);
  const auto it = rows_.find(key_);
  if (it == rows_.end()) return true;
  return it->second.digest != digest || now_us - it->second.at_us >= refresh_us_ ||
         now_us < it->second.at_us;  // a clock that went back: write
}

void RecentWrites::written(std::string_view key, std::uint64_t digest, std::int64_t now_us) {
  key_.assign(key);
  auto it = rows_.find(key_);
  if (it == rows_.end()) {
    if (rows_.size() >= max_rows_) rows_.clear();
    it = rows_.emplace(key_, Written{}).first;
  }
  it->second = Written{digest, now_us};
}

std::uint64_t digest_bytes(std::uint64_t digest, std::string_view bytes) {
  for (const char c : bytes) {
    digest ^= static_cast<unsigned char>(c);
    digest *= 1099511628211ULL;
  }
  // The length too, so that ("ab", "c") and ("a", "bc") differ.
  const std::size_t size = bytes.size();
  for (std::size_t i = 0; i < sizeof size; ++i) {
    digest ^= static_cast<unsigned char>(size >> (8 * i));
    digest *= 1099511628211ULL;
  }
  return digest;
}

}  // namespace mailsentry
