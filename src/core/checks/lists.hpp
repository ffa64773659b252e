// Named reference lists (disposable domains, free providers, roles, ...).
// Each list is built into the library from a data file and can be overridden
// at run time: entries added or removed by the user take precedence.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace mailsentry {

// One built-in entry as generated from a data file: the key (a domain or a
// local part, lower-case) and an optional detail column (a provider name, a
// role group, a reason ...).
struct BuiltinEntry {
  std::string_view key;
  std::string_view detail;
};

class NamedList {
 public:
  NamedList() = default;
  NamedList(const BuiltinEntry* entries, std::size_t count);

  // The detail of `key` if it is on the list (empty string_view when the
  // entry has no detail), nullptr-like `found == false` otherwise.
  struct Lookup {
    bool found = false;
    std::string_view detail;
  };
  Lookup find(std::string_view key) const;
  bool contains(std::string_view key) const { return find(key).found; }

  // Every entry in data-file order, then user additions; removed entries are
  // skipped. Used by checks that scan a whole list (typo candidates).
  template <typename Visit>
  void for_each(Visit&& visit) const {
    for (const auto& entry : ordered_)
      if (removed_.empty() || !removed_.count(std::string(entry.key))) visit(entry);
    for (const auto& [key, detail] : added_)
      if (!builtin_.count(key)) visit(BuiltinEntry{key, detail});
  }

  void add(std::string key, std::string detail);
  void remove(std::string key);
  void clear_overrides();
  bool has_overrides() const { return !added_.empty() || !removed_.empty(); }

 private:
  std::vector<BuiltinEntry> ordered_;
  std::unordered_map<std::string_view, std::string_view> builtin_;
  std::unordered_map<std::string, std::string> added_;
  std::unordered_set<std::string> removed_;
};

// Every list the network-free checks consult. `Lists::builtin()` gives the
// lists exactly as shipped; a copy can take user overrides.
struct Lists {
  NamedList disposable;            // disposable.txt
  NamedList disposable_allowlist;  // disposable_allowlist.txt
  NamedList free_providers;        // free_providers.txt (detail: unused)
  NamedList providers;             // providers.tsv: domain -> provider name
  NamedList roles;                 // roles.tsv: local part -> "system:<group>" | "role:<group>"
  NamedList popular_domains;   // popular_domains_ranked.txt then popular_domains.txt (rank order)
  NamedList popular_slds;      // popular_second_level_domains.txt
  NamedList popular_tlds;      // popular_tlds.txt
  NamedList abuse_domains;     // abuse_domains.tsv: domain -> reason
  NamedList trap_domains;      // trap_domains.tsv: domain pattern -> trap type
  NamedList trap_local_parts;  // trap_local_parts.tsv: local part -> trap type
  NamedList anti_probe_mx;     // anti_probe_mx.tsv: MX host pattern -> provider (not probed)
  NamedList mx_providers;      // mx_providers.tsv: MX host pattern -> mail host provider

  static Lists builtin();

  // The list called `name` ("disposable", "roles", ...), or nullptr.
  NamedList* by_name(std::string_view name);
  static const std::vector<std::string_view>& names();
};

// Domain membership with parent matching: `a.b.example.com` is on a list
// that holds `example.com`. Returns the matching entry.
NamedList::Lookup find_domain_or_parent(const NamedList& list, std::string_view domain);

}  // namespace mailsentry
