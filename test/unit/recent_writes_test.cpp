#include "verdict/recent_writes.hpp"

#include <gtest/gtest.h>

namespace mailsentry {
namespace {

constexpr std::int64_t kSecond = 1000000;

TEST(RecentWrites, SameContentSoonAfterIsSkipped) {
  RecentWrites writes(60 * kSecond, 100);
  EXPECT_TRUE(writes.needs_write("acme.com", 1, 0));
  writes.written("acme.com", 1, 0);
  EXPECT_FALSE(writes.needs_write("acme.com", 1, 5 * kSecond));
  // Other content, another row, or the refresh interval passed: written.
  EXPECT_TRUE(writes.needs_write("acme.com", 2, 5 * kSecond));
  EXPECT_TRUE(writes.needs_write("other.com", 1, 5 * kSecond));
  EXPECT_TRUE(writes.needs_write("acme.com", 1, 60 * kSecond));
  EXPECT_TRUE(writes.needs_write("acme.com", 1, -kSecond));  // the clock went back
}

TEST(RecentWrites, OnlyWrittenRowsAreRememberedAndTheMemoryIsBounded) {
  RecentWrites writes(60 * kSecond, 2);
  writes.written("a.com", 1, 0);
  writes.written("b.com", 1, 0);
  EXPECT_FALSE(writes.needs_write("a.com", 1, 1));
  writes.written("c.com", 1, 0);  // a third row: the memory starts over
  EXPECT_TRUE(writes.needs_write("a.com", 1, 1));
  EXPECT_FALSE(writes.needs_write("c.com", 1, 1));
  // A row written again is not a new row: with c.com and d.com the memory
  // is full, and rewriting c.com keeps both.
  writes.written("d.com", 1, 5);
  writes.written("c.com", 2, 5);
  EXPECT_FALSE(writes.needs_write("c.com", 2, 6));
  EXPECT_FALSE(writes.needs_write("d.com", 1, 6));
}

TEST(RecentWrites, DigestsTellContentsApart) {
  const std::uint64_t ab_c = digest_bytes(digest_bytes(kDigestStart, "ab"), "c");
  const std::uint64_t a_bc = digest_bytes(digest_bytes(kDigestStart, "a"), "bc");
  EXPECT_NE(ab_c, a_bc);
  EXPECT_EQ(digest_bytes(kDigestStart, "mx.acme.com"), digest_bytes(kDigestStart, "mx.acme.com"));
  EXPECT_NE(digest_bytes(kDigestStart, "mx1.acme.com"), digest_bytes(kDigestStart, "mx2.acme.com"));
}

}  // namespace
}  // namespace mailsentry
