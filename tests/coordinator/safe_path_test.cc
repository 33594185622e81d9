#include "common/safe_path.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/escaping.h"

namespace reelfarm {
namespace {

std::string Repeat(const std::string& s, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out += s;
  return out;
}

TEST(SafePathComponentTest, TurnsHostileTextIntoPlainNames) {
  struct Case {
    std::string text;
    std::string expect;
  };
  const std::vector<Case> cases = {
      {"my sweep", "my sweep"},
      {"demo_v2.1", "demo_v2.1"},
      {"../../etc/passwd", "etc-passwd"},
      {"/etc/passwd", "etc-passwd"},
      {"..", "fallback"},
      {".", "fallback"},
      {"", "fallback"},
      {std::string("a\0b", 3), "a-b"},
      {"\x1b[31mred\x07", "31mred"},
      {"CON", "_CON"},
      {"con", "_con"},
      {"nul.txt", "_nul.txt"},
      {"LPT9.log", "_LPT9.log"},
      {"com1", "_com1"},
      {"COM0", "COM0"},        // not a device
      {"console", "console"},  // nor is this
      {"-rf --no-preserve-root", "rf --no-preserve-root"},
      {".hidden", "hidden"},
      {"name. . .", "name"},
      {"a\\..\\b", "a-..-b"},
      {"C:evil", "C-evil"},
      {"\xff\xfe"
       "abc",
       "abc"},  // invalid UTF-8 is dropped
      {"\xe6\x97\xa5\xe6\x9c\xac", "\xe6\x97\xa5\xe6\x9c\xac"},  // kept
      {"cat\xe2\x80\xae"
       "gnp.exe",
       "cat-gnp.exe"},  // U+202E right-to-left override
  };
  for (const Case& c : cases) {
    const std::string got = SafePathComponent(c.text, 255, "fallback");
    EXPECT_EQ(got, c.expect) << absl::CHexEscape(c.text);
    EXPECT_TRUE(IsSafePathComponent(got)) << absl::CHexEscape(c.text);
  }
}

TEST(SafePathComponentTest, CapsLengthInBytesWithoutSplittingCharacters) {
  const std::string e_acute = "\xc3\xa9";  // two bytes
  const std::string got = SafePathComponent(Repeat(e_acute, 5000), 255, "x");
  EXPECT_EQ(got, Repeat(e_acute, 127));  // 254 bytes: 255 would split one
  EXPECT_TRUE(IsSafePathComponent(got));
  EXPECT_EQ(SafePathComponent(std::string(10000, 'a'), 40, "x"),
            std::string(40, 'a'));
  EXPECT_EQ(SafePathComponent(std::string(10000, 'a'), 9999, "x").size(),
            kMaxComponentBytes);
}

TEST(IsSafePathComponentTest, RejectsWhatEscapesOrBreaksSomeFilesystem) {
  for (const std::string& bad :
       std::vector<std::string>{"",
                                ".",
                                "..",
                                "../x",
                                "a/b",
                                "/abs",
                                "a\\b",
                                std::string("a\0b", 3),
                                "a\nb",
                                "CON",
                                "aux.txt",
                                "Com3",
                                "x.",
                                "x ",
                                "-x",
                                ".x",
                                "a:b",
                                "a*b",
                                "\xc3",
                                "\xed\xa0\x80",
                                std::string(256, 'a')}) {
    EXPECT_FALSE(IsSafePathComponent(bad)) << absl::CHexEscape(bad);
  }
  for (const std::string& good : std::vector<std::string>{
           "a", "cat-0123456789ab", "x.png", "a..b", "con-1", "\xe6\x97\xa5",
           std::string(255, 'a')}) {
    EXPECT_TRUE(IsSafePathComponent(good)) << absl::CHexEscape(good);
  }
}

TEST(IsPlainAbsolutePathTest, RejectsRelativeClimbingAndControlCharacters) {
  EXPECT_TRUE(IsPlainAbsolutePath("/srv/out"));
  EXPECT_TRUE(IsPlainAbsolutePath("/srv/out/"));
  EXPECT_TRUE(IsPlainAbsolutePath("/srv/..out"));
  EXPECT_FALSE(IsPlainAbsolutePath(""));
  EXPECT_FALSE(IsPlainAbsolutePath("out"));
  EXPECT_FALSE(IsPlainAbsolutePath("/srv/../etc"));
  EXPECT_FALSE(IsPlainAbsolutePath("/srv/out/.."));
  EXPECT_FALSE(IsPlainAbsolutePath(std::string("/srv\0/etc", 9)));
  EXPECT_FALSE(IsPlainAbsolutePath("/srv/a\nb"));
}

TEST(PathInsideTest, JoinsOnlyPlainNamesStrictlyInside) {
  EXPECT_EQ(*PathInside("/out", "x"), "/out/x");
  EXPECT_EQ(*PathInside("/out/", "x"), "/out/x");
  EXPECT_EQ(*PathInside("/a/../out/.", "x"), "/out/x");
  for (const std::string& bad :
       std::vector<std::string>{"", ".", "..", "../x", "x/../..", "x/y", "/etc",
                                "CON", std::string("x\0y", 3)}) {
    absl::StatusOr<std::filesystem::path> p = PathInside("/out", bad);
    EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument)
        << absl::CHexEscape(bad);
  }
  EXPECT_EQ(PathInside("relative", "x").status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace reelfarm
