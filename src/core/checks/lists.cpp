#include "checks/lists.hpp"

#include "checks/builtin_data.hpp"

namespace mailsentry {

NamedList::NamedList(const BuiltinEntry* entries, std::size_t count) {
  ordered_.reserve(count);
  builtin_.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    // The first occurrence wins, so a ranked file can be followed by a longer
    // unranked one without losing the rank order.
    if (builtin_.emplace(entries[i].key, entries[i].detail).second) ordered_.push_back(entries[i]);
  }
}

NamedList::Lookup NamedList::find(std::string_view key) const {
  if (!added_.empty()) {
    if (auto it = added_.find(std::string(key)); it != added_.end()) return {true, it->second};
  }
  if (!removed_.empty() && removed_.count(std::string(key))) return {};
  if (auto it = builtin_.find(key); it != builtin_.end()) return {true, it->second};
  return {};
}

void NamedList::add(std::string key, std::string detail) {
  removed_.erase(key);
  added_[std::move(key)] = std::move(detail);
}

void NamedList::remove(std::string key) {
  added_.erase(key);
  removed_.insert(std::move(key));
}

void NamedList::clear_overrides() {
  added_.clear();
  removed_.clear();
}

namespace {

NamedList concat_lists(const BuiltinEntry* first, std::size_t first_count,
                       const BuiltinEntry* second, std::size_t second_count) {
  std::vector<BuiltinEntry> all(first, first + first_count);
  all.insert(all.end(), second, second + second_count);
  return NamedList(all.data(), all.size());
}

}  // namespace

Lists Lists::builtin() {
  using namespace data;
  Lists lists;
  lists.disposable = NamedList(kDisposable, kDisposableCount);
  lists.disposable_allowlist = NamedList(kDisposableAllowlist, kDisposableAllowlistCount);
  lists.free_providers = NamedList(kFreeProviders, kFreeProvidersCount);
  lists.providers = NamedList(kProviders, kProvidersCount);
  lists.roles = NamedList(kRoles, kRolesCount);
  lists.popular_domains = concat_lists(kPopularDomainsRanked, kPopularDomainsRankedCount,
                                       kPopularDomains, kPopularDomainsCount);
  lists.popular_slds = NamedList(kPopularSlds, kPopularSldsCount);
  lists.popular_tlds = NamedList(kPopularTlds, kPopularTldsCount);
  lists.abuse_domains = NamedList(kAbuseDomains, kAbuseDomainsCount);
  lists.trap_domains = NamedList(kTrapDomains, kTrapDomainsCount);
  lists.trap_local_parts = NamedList(kTrapLocalParts, kTrapLocalPartsCount);
  lists.anti_probe_mx = NamedList(kAntiProbeMx, kAntiProbeMxCount);
  lists.mx_providers = NamedList(kMxProviders, kMxProvidersCount);
  return lists;
}

const std::vector<std::string_view>& Lists::names() {
  static const std::vector<std::string_view> kNames = {
      "disposable",       "disposable_allowlist", "free_providers", "providers",     "roles",
      "popular_domains",  "popular_slds",         "popular_tlds",   "abuse_domains", "trap_domains",
      "trap_local_parts", "anti_probe_mx",        "mx_providers"};
  return kNames;
}

NamedList* Lists::by_name(std::string_view name) {
  if (name == "disposable") return &disposable;
  if (name == "disposable_allowlist") return &disposable_allowlist;
  if (name == "free_providers") return &free_providers;
  if (name == "providers") return &providers;
  if (name == "roles") return &roles;
  if (name == "popular_domains") return &popular_domains;
  if (name == "popular_slds") return &popular_slds;
  if (name == "popular_tlds") return &popular_tlds;
  if (name == "abuse_domains") return &abuse_domains;
  if (name == "trap_domains") return &trap_domains;
  if (name == "trap_local_parts") return &trap_local_parts;
  if (name == "anti_probe_mx") return &anti_probe_mx;
  if (name == "mx_providers") return &mx_providers;
  return nullptr;
}

NamedList::Lookup find_domain_or_parent(const NamedList& list, std::string_view domain) {
  while (!domain.empty()) {
    if (auto hit = list.find(domain); hit.found) return hit;
    auto dot = domain.find('.');
    if (dot == std::string_view::npos) break;
    domain.remove_prefix(dot + 1);
  }
  return {};
}

}  // namespace mailsentry
