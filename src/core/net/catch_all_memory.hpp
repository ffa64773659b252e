// Per-domain memory of catch-all answers, so that later addresses at a known
// domain need a single RCPT. Entries expire after a TTL; the least recently
// used go first when the memory is full.
#pragma once

#include <chrono>
#include <cstddef>
#include <list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace mailsentry {

class CatchAllMemory {
 public:
  using Clock = std::chrono::steady_clock;

  explicit CatchAllMemory(std::size_t capacity = 100000) : capacity_(capacity) {}

  // The remembered answer for `domain` (case-insensitive), if still fresh.
  std::optional<bool> recall(std::string_view domain, Clock::time_point now);
  void remember(std::string_view domain, bool catch_all, Clock::time_point now,
                std::chrono::milliseconds ttl);
  void clear();
  std::size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    bool catch_all = false;
    Clock::time_point expires;
    std::list<std::string>::iterator recency;
  };

  std::size_t capacity_;
  std::unordered_map<std::string, Entry> entries_;
  std::list<std::string> recency_;  // most recently used first
};

}  // namespace mailsentry
