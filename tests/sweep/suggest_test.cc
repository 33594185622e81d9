#include "sweep/suggest.h"

#include "gtest/gtest.h"

namespace reelfarm::config {
namespace {

TEST(SuggestTest, EditDistance) {
  EXPECT_EQ(EditDistance("", ""), 0u);
  EXPECT_EQ(EditDistance("steps", "steps"), 0u);
  EXPECT_EQ(EditDistance("stpes", "steps"), 2u);
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3u);
  EXPECT_EQ(EditDistance("", "abc"), 3u);
}

TEST(SuggestTest, ClosestMatch) {
  const std::vector<absl::string_view> keys = {"guidance_scale", "steps", "W",
                                               "n_prompt", "prompt"};
  EXPECT_EQ(ClosestMatch("guidance", keys), "guidance_scale");
  EXPECT_EQ(ClosestMatch("step", keys), "steps");
  EXPECT_EQ(ClosestMatch("w", keys), "W");
  EXPECT_EQ(ClosestMatch("nprompt", keys), "n_prompt");
  EXPECT_EQ(ClosestMatch("promt", keys), "prompt");
  EXPECT_EQ(ClosestMatch("controlnet", keys), std::nullopt);
}

TEST(SuggestTest, UnknownKeyMessage) {
  EXPECT_EQ(UnknownKeyMessage("gird", {"grid", "zip"}),
            "unknown key 'gird'; did you mean 'grid'?");
  EXPECT_EQ(UnknownKeyMessage("xyzzy", {"grid", "zip"}),
            "unknown key 'xyzzy'; expected one of: grid, zip");
}

}  // namespace
}  // namespace reelfarm::config
