// Which rows were written lately, and with what: a row that would be written
// again with the same content soon after can be left as it is. The worker
// rewrote each domain's facts row after every round of answers (hundreds of
// times a second in bulk), which made its HOT chains long and its upserts
// slow, though the facts had not changed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

namespace mailsentry {

class RecentWrites {
 public:
  // A row is rewritten at least every `refresh_us` even when unchanged; at
  // most `max_rows` are remembered (then the memory starts over).
  RecentWrites(std::int64_t refresh_us, std::size_t max_rows);

  // Whether `key` must be written with content `digest` at `now_us`.
  bool needs_write(std::string_view key, std::uint64_t digest, std::int64_t now_us) const;
  // Records a write that is durable (its transaction committed).
  void written(std::string_view key, std::uint64_t digest, std::int64_t now_us);

 private:
  struct Written {
    std::uint64_t digest;
    std::int64_t at_us;
  };
  std::int64_t refresh_us_;
  std::size_t max_rows_;
  std::unordered_map<std::string, Written> rows_;
  mutable std::string key_;  // reused for lookups (no allocation per call)
};

// Combines `bytes` into a running 64-bit digest (FNV-1a).
std::uint64_t digest_bytes(std::uint64_t digest, std::string_view bytes);
constexpr std::uint64_t kDigestStart = 14695981039346656037ULL;

}  // namespace mailsentry
