#include "net/catch_all_memory.hpp"

namespace mailsentry {

namespace {

std::string domain_key(std::string_view domain) {
  std::string key(domain);
  for (char& c : key) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  while (!key.empty() && key.back() == '.') key.pop_back();
  return key;
}

}  // namespace

std::optional<bool> CatchAllMemory::recall(std::string_view domain, Clock::time_point now) {
  const auto found = entries_.find(domain_key(domain));
  if (found == entries_.end()) return std::nullopt;
  if (found->second.expires <= now) {
    recency_.erase(found->second.recency);
    entries_.erase(found);
    return std::nullopt;
  }
  recency_.splice(recency_.begin(), recency_, found->second.recency);
  return found->second.catch_all;
}

void CatchAllMemory::remember(std::string_view domain, bool catch_all, Clock::time_point now,
                              std::chrono::milliseconds ttl) {
  if (capacity_ == 0 || ttl.count() <= 0) return;
  std::string key = domain_key(domain);
  if (key.empty()) return;
  const auto found = entries_.find(key);
  if (found != entries_.end()) {
    found->second.catch_all = catch_all;
    found->second.expires = now + ttl;
    recency_.splice(recency_.begin(), recency_, found->second.recency);
    return;
  }
  while (entries_.size() >= capacity_ && !recency_.empty()) {
    entries_.erase(recency_.back());
    recency_.pop_back();
  }
  recency_.push_front(key);
  entries_.emplace(std::move(key), Entry{catch_all, now + ttl, recency_.begin()});
}

void CatchAllMemory::clear() {
  entries_.clear();
  recency_.clear();
}

}  // namespace mailsentry
