// A bounded cache whose entries expire after their own time to live and whose
// least recently used entries are evicted first when it is full.
// Not thread-safe: the DNS resolver uses it from the io_context thread only.
#pragma once

#include <chrono>
#include <cstddef>
#include <list>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

namespace mailsentry {

template <typename Value, typename Clock = std::chrono::steady_clock>
class TtlLruCache {
 public:
  explicit TtlLruCache(std::size_t capacity) : capacity_(capacity) {}

  // The live value for key, which becomes the most recently used entry;
  // nothing when absent or expired (expired entries are dropped on the way).
  std::optional<Value> get(const std::string& key, typename Clock::time_point now) {
    auto found = index_.find(key);
    if (found == index_.end()) return std::nullopt;
    auto entry = found->second;
    if (entry->expires_at <= now) {
      index_.erase(found);
      entries_.erase(entry);
      return std::nullopt;
    }
    entries_.splice(entries_.begin(), entries_, entry);
    return entry->value;
  }

  // Stores value for ttl; a zero ttl or capacity stores nothing. The ttl is
  // the clock's own duration so that restored answers keep sub-second rests.
  void put(const std::string& key, Value value, typename Clock::duration ttl,
           typename Clock::time_point now) {
    if (capacity_ == 0 || ttl <= Clock::duration::zero()) return;
    const auto expires_at = now + ttl;
    auto found = index_.find(key);
    if (found != index_.end()) {
      found->second->value = std::move(value);
      found->second->expires_at = expires_at;
      entries_.splice(entries_.begin(), entries_, found->second);
      return;
    }
    while (entries_.size() >= capacity_) {
      index_.erase(entries_.back().key);
      entries_.pop_back();
    }
    entries_.push_front(Entry{key, std::move(value), expires_at});
    index_.emplace(key, entries_.begin());
  }

  void clear() {
    index_.clear();
    entries_.clear();
  }

  std::size_t size() const { return entries_.size(); }
  std::size_t capacity() const { return capacity_; }

 private:
  struct Entry {
    std::string key;
    Value value;
    typename Clock::time_point expires_at;
  };
  std::size_t capacity_;
  std::list<Entry> entries_;  // most recently used first
  std::unordered_map<std::string, typename std::list<Entry>::iterator> index_;
};

}  // namespace mailsentry
