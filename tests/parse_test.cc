// core/parse.h: the one strict parser of numbers and spec texts.
#include <gtest/gtest.h>

#include "core/parse.h"

namespace xfed {
namespace {

using Items = std::vector<std::string>;

TEST(SpecParser, SplitsKeepEveryPieceSoThatEmptyOnesAreSeen) {
  EXPECT_EQ(split_items("a,b", ','), (Items{"a", "b"}));
  EXPECT_EQ(split_items("a,,b", ','), (Items{"a", "", "b"}));
  EXPECT_EQ(split_items("a,", ','), (Items{"a", ""}));
  EXPECT_EQ(split_items("", ','), (Items{""}));
  const auto named = split_spec("di:target=0.1,every=2");
  EXPECT_EQ(named.name, "di");
  EXPECT_EQ(named.args, "target=0.1,every=2");
  EXPECT_FALSE(split_spec("iid").args.has_value());
  EXPECT_EQ(split_spec("iid:").args, "") << "an empty argument is not a missing one";
}

TEST(SpecParser, ListsAndKeyValuesAreAllOrNothing) {
  EXPECT_EQ(parse_int_list("300,100", ',', 1, 1000), (std::vector<int64_t>{300, 100}));
  EXPECT_EQ(parse_int_list("3x32x32", 'x', 1, 1000), (std::vector<int64_t>{3, 32, 32}));
  for (const char* bad : {"300,,100", "300,", "", "3.5", "0,1", "1001", "1e2", " 1"})
    EXPECT_FALSE(parse_int_list(bad, ',', 1, 1000)) << bad;
  const auto kv = parse_key_values("target=0.1,every=2");
  ASSERT_TRUE(kv);
  EXPECT_EQ(kv->at(1).first, "every");
  EXPECT_EQ(kv->at(1).second, "2");
  for (const char* bad : {"target", "=1", "target=0.1,", "a=1,,b=2"})
    EXPECT_FALSE(parse_key_values(bad)) << bad;
}

TEST(SpecParser, QuantitiesNeedAWholeNumberBeforeTheUnit) {
  double v;
  std::string unit;
  ASSERT_TRUE(parse_quantity("12.5MBit", &v, &unit));
  EXPECT_EQ(v, 12.5);
  EXPECT_EQ(unit, "mbit");
  ASSERT_TRUE(parse_quantity("1e3ms", &v, &unit));
  EXPECT_EQ(v, 1000);
  for (const char* bad : {"1.2.3mbit", "nanmbit", "infms", "mbit", ".ms", "1,5ms", "0x10s"})
    EXPECT_FALSE(parse_quantity(bad, &v, &unit)) << bad;
  EXPECT_EQ(trim_blanks("  0.5\t"), "0.5");
}

}  // namespace
}  // namespace xfed
