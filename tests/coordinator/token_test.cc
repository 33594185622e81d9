#include "rpc/token.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace reelfarm {
namespace {

namespace fs = std::filesystem;

class TokenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / "reelfarm_token_test";
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    unsetenv(kTokenEnvVar);
  }
  void TearDown() override { unsetenv(kTokenEnvVar); }
  std::string Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
    return (dir_ / name).string();
  }
  fs::path dir_;
};

TEST_F(TokenTest, FileTokenDropsTheTrailingNewline) {
  absl::StatusOr<std::string> t = ReadTokenFile(Write("t", "s3cret\n"));
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(*t, "s3cret");
}

TEST_F(TokenTest, EmptyMissingAndUnprintableTokensAreErrorsNamingTheFile) {
  const std::string empty = Write("empty", " \n");
  absl::StatusOr<std::string> t = ReadTokenFile(empty);
  EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(t.status().message().find(empty), std::string::npos);
  EXPECT_EQ(ReadTokenFile((dir_ / "absent").string()).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_FALSE(ReadTokenFile(Write("space", "two words")).ok());
  EXPECT_FALSE(ReadTokenFile(Write("nul", std::string("a\0b", 3))).ok());
}

TEST_F(TokenTest, FileWinsOverTheEnvironmentWhichWinsOverNothing) {
  EXPECT_EQ(*ResolveToken(""), "");
  setenv(kTokenEnvVar, "from-env", 1);
  EXPECT_EQ(*ResolveToken(""), "from-env");
  EXPECT_EQ(*ResolveToken(Write("t", "from-file")), "from-file");
}

TEST(TokensEqualTest, ComparesWholeTokens) {
  EXPECT_TRUE(TokensEqual("abc", "abc"));
  EXPECT_FALSE(TokensEqual("abc", "abd"));
  EXPECT_FALSE(TokensEqual("abc", "abcd"));
  EXPECT_FALSE(TokensEqual("abc", ""));
  EXPECT_FALSE(TokensEqual("", "abc"));
}

TEST(GenerateTokenTest, SixtyFourHexCharactersDifferentEachTime) {
  absl::StatusOr<std::string> a = GenerateToken();
  absl::StatusOr<std::string> b = GenerateToken();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->size(), 64u);
  EXPECT_EQ(a->find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_NE(*a, *b);
  EXPECT_TRUE(ValidateToken(*a, "generated").ok());
}

}  // namespace
}  // namespace reelfarm
