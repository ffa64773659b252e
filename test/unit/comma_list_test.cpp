#include "checks/comma_list.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace mailsentry {
namespace {

TEST(CommaList, TrimsItemsAndDropsEmptyOnes) {
  EXPECT_EQ(split_list(" a, b ,,\tc\t,"), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_TRUE(split_list("").empty());
  EXPECT_TRUE(split_list(" , ,").empty());
  EXPECT_EQ(split_list("one"), (std::vector<std::string>{"one"}));
}

}  // namespace
}  // namespace mailsentry
