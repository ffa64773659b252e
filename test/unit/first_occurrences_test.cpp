#include "verdict/first_occurrences.hpp"

#include <gtest/gtest.h>

#include <string>

namespace mailsentry {
namespace {

using Indexes = std::vector<std::size_t>;

TEST(FirstOccurrences, KeepsTheFirstOfEachExactTextInOrder) {
  const std::vector<std::string_view> texts = {"b@x.com", "a@x.com", "b@x.com", "c@x.com",
                                               "a@x.com"};
  EXPECT_EQ(first_occurrences(texts), (Indexes{0, 1, 3}));
}

TEST(FirstOccurrences, DuplicatesAreExactTextNotNormalizedAddresses) {
  // Case and surrounding text differ: each is its own input (the verdicts of
  // both are reported; normalisation happens later, per input).
  const std::vector<std::string_view> texts = {"Jane@X.com", "jane@x.com", "Jane@X.com "};
  EXPECT_EQ(first_occurrences(texts), (Indexes{0, 1, 2}));
}

TEST(FirstOccurrences, EmptyListAndAllDuplicates) {
  EXPECT_TRUE(first_occurrences({}).empty());
  const std::vector<std::string_view> same(1000, "same@x.com");
  EXPECT_EQ(first_occurrences(same), (Indexes{0}));
}

TEST(FirstOccurrences, ManyDistinctTextsAllKept) {
  std::vector<std::string> storage;
  for (int i = 0; i < 10000; ++i) storage.push_back("user" + std::to_string(i) + "@x.com");
  std::vector<std::string_view> texts(storage.begin(), storage.end());
  texts.push_back(storage[42]);
  const Indexes firsts = first_occurrences(texts);
  ASSERT_EQ(firsts.size(), 10000u);
  EXPECT_EQ(firsts.back(), 9999u);
}

}  // namespace
}  // namespace mailsentry
