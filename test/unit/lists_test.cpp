#include "checks/lists.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace mailsentry {
namespace {

const BuiltinEntry kSample[] = {
    {"example.com", "Example"}, {"b.org", ""}, {"example.com", "duplicate"}, {"c.net", "C"}};

std::vector<std::string> keys_of(const NamedList& list) {
  std::vector<std::string> keys;
  list.for_each([&keys](const BuiltinEntry& entry) { keys.emplace_back(entry.key); });
  return keys;
}

TEST(NamedList, FindsBuiltinEntriesWithTheirDetail) {
  NamedList list(kSample, std::size(kSample));
  auto hit = list.find("example.com");
  EXPECT_TRUE(hit.found);
  EXPECT_EQ(hit.detail, "Example");  // the first occurrence wins
  EXPECT_TRUE(list.contains("b.org"));
  EXPECT_EQ(list.find("b.org").detail, "");
  EXPECT_FALSE(list.contains("missing.org"));
  EXPECT_FALSE(list.contains("EXAMPLE.COM"));  // keys are lower-case; callers lower-case
  EXPECT_FALSE(list.has_overrides());
}

TEST(NamedList, ForEachKeepsFileOrderAndSkipsDuplicates) {
  NamedList list(kSample, std::size(kSample));
  EXPECT_EQ(keys_of(list), (std::vector<std::string>{"example.com", "b.org", "c.net"}));
}

TEST(NamedList, OverridesAddAndRemove) {
  NamedList list(kSample, std::size(kSample));
  list.add("new.io", "New");
  list.remove("b.org");
  EXPECT_TRUE(list.has_overrides());
  EXPECT_TRUE(list.contains("new.io"));
  EXPECT_EQ(list.find("new.io").detail, "New");
  EXPECT_FALSE(list.contains("b.org"));
  EXPECT_EQ(keys_of(list), (std::vector<std::string>{"example.com", "c.net", "new.io"}));

  // An addition replaces a built-in detail and is listed once, in file order.
  list.add("c.net", "Changed");
  EXPECT_EQ(list.find("c.net").detail, "Changed");
  EXPECT_EQ(keys_of(list), (std::vector<std::string>{"example.com", "c.net", "new.io"}));

  // Re-adding a removed key brings it back; removing an added key drops it.
  list.add("b.org", "");
  EXPECT_TRUE(list.contains("b.org"));
  list.remove("new.io");
  EXPECT_FALSE(list.contains("new.io"));

  list.clear_overrides();
  EXPECT_FALSE(list.has_overrides());
  EXPECT_EQ(list.find("c.net").detail, "C");
  EXPECT_EQ(keys_of(list), (std::vector<std::string>{"example.com", "b.org", "c.net"}));
}

TEST(FindDomainOrParent, MatchesTheDomainAndEveryParent) {
  NamedList list(kSample, std::size(kSample));
  EXPECT_EQ(find_domain_or_parent(list, "example.com").detail, "Example");
  EXPECT_EQ(find_domain_or_parent(list, "mail.example.com").detail, "Example");
  EXPECT_EQ(find_domain_or_parent(list, "a.b.example.com").detail, "Example");
  EXPECT_FALSE(find_domain_or_parent(list, "notexample.com").found);  // label boundary
  EXPECT_FALSE(find_domain_or_parent(list, "com").found);
  EXPECT_FALSE(find_domain_or_parent(list, "").found);
  list.remove("example.com");
  EXPECT_FALSE(find_domain_or_parent(list, "mail.example.com").found);
  list.add("sub.c.net", "Sub");
  EXPECT_EQ(find_domain_or_parent(list, "x.sub.c.net").detail, "Sub");
  EXPECT_EQ(find_domain_or_parent(list, "y.c.net").detail, "C");
}

TEST(Lists, BuiltinListsAreLoadedAndNamed) {
  Lists lists = Lists::builtin();
  for (auto name : Lists::names()) EXPECT_NE(lists.by_name(name), nullptr) << name;
  EXPECT_EQ(lists.by_name("nope"), nullptr);
  EXPECT_EQ(lists.by_name("roles"), &lists.roles);
  EXPECT_TRUE(lists.free_providers.contains("gmail.com"));
  EXPECT_EQ(lists.providers.find("googlemail.com").detail, "Gmail");
  EXPECT_EQ(lists.roles.find("info").detail, "role:general");
  EXPECT_TRUE(lists.trap_domains.contains("example.com"));
  EXPECT_TRUE(lists.trap_local_parts.contains("spamtrap"));
  EXPECT_TRUE(lists.abuse_domains.contains("cock.li"));
  // Comment lines of the .tsv files never become entries.
  for (auto name : Lists::names()) {
    lists.by_name(name)->for_each([&name](const BuiltinEntry& entry) {
      EXPECT_FALSE(entry.key.empty()) << name;
      EXPECT_NE(entry.key.front(), '#') << name;
    });
  }
}

TEST(Lists, EveryRoleEntryHasATier) {
  const Lists lists = Lists::builtin();
  std::size_t count = 0;
  lists.roles.for_each([&count](const BuiltinEntry& entry) {
    ++count;
    const auto detail = entry.detail;
    const bool tiered = detail.rfind("system:", 0) == 0 || detail.rfind("role:", 0) == 0 ||
                        detail.rfind("none:", 0) == 0;
    EXPECT_TRUE(tiered) << entry.key << " -> " << detail;
  });
  EXPECT_GE(count, 1018u);  // every mixmax entry is kept with a verdict
}

TEST(Lists, OverridesOnACopyLeaveTheBuiltinAlone) {
  Lists copy = Lists::builtin();
  copy.roles.add("ops-bot", "system:notification");
  EXPECT_TRUE(copy.roles.contains("ops-bot"));
  EXPECT_FALSE(Lists::builtin().roles.contains("ops-bot"));
}

}  // namespace
}  // namespace mailsentry
