#include "checks/disposable.hpp"

#include <gtest/gtest.h>

namespace mailsentry {
namespace {

const Lists& lists() {
  static const Lists kLists = Lists::builtin();
  return kLists;
}

TEST(Disposable, ListedDomainsAndTheirSubdomains) {
  EXPECT_TRUE(is_disposable_domain("mailinator.com", lists()));
  EXPECT_TRUE(is_disposable_domain("yopmail.com", lists()));
  EXPECT_TRUE(is_disposable_domain("inbox.mailinator.com", lists()));
  EXPECT_TRUE(is_disposable_domain("a.b.mailinator.com", lists()));
}

TEST(Disposable, OrdinaryDomainsAreNot) {
  EXPECT_FALSE(is_disposable_domain("gmail.com", lists()));
  EXPECT_FALSE(is_disposable_domain("xmailinator.com", lists()));
  EXPECT_FALSE(is_disposable_domain("com", lists()));
  EXPECT_FALSE(is_disposable_domain("", lists()));
  EXPECT_FALSE(is_disposable_domain("[192.0.2.1]", lists()));
}

TEST(Disposable, AllowlistWinsAtAnyLevel) {
  Lists copy = Lists::builtin();
  copy.disposable.add("relay.example", "");
  EXPECT_TRUE(is_disposable_domain("x.relay.example", copy));
  copy.disposable_allowlist.add("x.relay.example", "");
  EXPECT_FALSE(is_disposable_domain("x.relay.example", copy));
  EXPECT_FALSE(is_disposable_domain("deep.x.relay.example", copy));
  EXPECT_TRUE(is_disposable_domain("y.relay.example", copy));
  copy.disposable_allowlist.add("relay.example", "");
  EXPECT_FALSE(is_disposable_domain("relay.example", copy));
}

TEST(Disposable, BuiltinAllowlistEntriesAreNeverDisposable) {
  const Lists& builtin = lists();
  builtin.disposable_allowlist.for_each([&builtin](const BuiltinEntry& entry) {
    EXPECT_FALSE(is_disposable_domain(entry.key, builtin)) << entry.key;
  });
}

TEST(Disposable, UserRemovalOfAListedDomain) {
  Lists copy = Lists::builtin();
  copy.disposable.remove("mailinator.com");
  EXPECT_FALSE(is_disposable_domain("mailinator.com", copy));
}

}  // namespace
}  // namespace mailsentry
