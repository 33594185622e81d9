#include "node/pipeline/animatediff/clip_tokenizer.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "nlohmann/json.hpp"
#include "tests/pipeline/fixtures.h"

namespace reelfarm::pipeline {
namespace {

using ::reelfarm::pipeline::testing::FixturePath;
using ::reelfarm::pipeline::testing::LoadReferenceJson;

constexpr int64_t kBos = 49406;
constexpr int64_t kEos = 49407;

ClipTokenizer LoadFixtureTokenizer() {
  absl::StatusOr<ClipTokenizer> tokenizer =
      ClipTokenizer::LoadFolder(FixturePath("pipeline/tokenizer"));
  EXPECT_TRUE(tokenizer.ok()) << tokenizer.status();
  if (!tokenizer.ok()) std::abort();
  return *std::move(tokenizer);
}

std::vector<int64_t> WithBosEos(std::vector<int64_t> ids) {
  ids.insert(ids.begin(), kBos);
  ids.push_back(kEos);
  return ids;
}

TEST(ClipTokenizerTest, LoadsFixtureFolder) {
  const ClipTokenizer tokenizer = LoadFixtureTokenizer();
  EXPECT_EQ(tokenizer.max_length(), 77);
  EXPECT_EQ(tokenizer.bos_id(), kBos);
  EXPECT_EQ(tokenizer.eos_id(), kEos);
  EXPECT_EQ(tokenizer.pad_id(), kEos);
}

// Every fixture prompt, untruncated (BOS + Tokenize + EOS) and as the
// padded/truncated 77 ids of reference/tokenizer.safetensors.
TEST(ClipTokenizerTest, MatchesReferenceIds) {
  const ClipTokenizer tokenizer = LoadFixtureTokenizer();
  const nlohmann::json ref = LoadReferenceJson("tokenizer");
  const auto prompts = ref.at("prompts").get<std::vector<std::string>>();
  const auto untruncated =
      ref.at("untruncated_ids").get<std::vector<std::vector<int64_t>>>();
  const TensorMap tensors = testing::LoadReferenceTensors("tokenizer");
  ASSERT_TRUE(tensors.count("input_ids"));
  const torch::Tensor ids = tensors.at("input_ids");
  ASSERT_EQ(ids.dtype(), torch::kInt64);
  ASSERT_EQ(ids.sizes(), (std::vector<int64_t>{9, 77}));
  const std::vector<int64_t> input_ids(ids.data_ptr<int64_t>(),
                                       ids.data_ptr<int64_t>() + ids.numel());
  ASSERT_EQ(prompts.size(), 9u);
  ASSERT_EQ(untruncated.size(), prompts.size());
  for (size_t i = 0; i < prompts.size(); ++i) {
    SCOPED_TRACE(prompts[i]);
    EXPECT_EQ(WithBosEos(tokenizer.Tokenize(prompts[i])), untruncated[i]);
    const std::vector<int64_t> want(input_ids.begin() + i * 77,
                                    input_ids.begin() + (i + 1) * 77);
    int cut = -1;
    EXPECT_EQ(tokenizer.Encode(prompts[i], &cut), want);
    EXPECT_EQ(cut, std::max<int>(0, untruncated[i].size() - 77));
  }
}

TEST(ClipTokenizerTest, TruncationKeepsEos) {
  const ClipTokenizer tokenizer = LoadFixtureTokenizer();
  std::string prompt;
  for (int i = 0; i < 100; ++i) prompt += "cat ";
  int cut = 0;
  const std::vector<int64_t> ids = tokenizer.Encode(prompt, &cut);
  ASSERT_EQ(ids.size(), 77u);
  EXPECT_EQ(cut, 25);
  EXPECT_EQ(ids.front(), kBos);
  EXPECT_EQ(ids.back(), kEos);
  EXPECT_EQ(ids[75], tokenizer.Tokenize("cat")[0]);
  // Exactly 75 tokens fit without a cut.
  prompt.clear();
  for (int i = 0; i < 75; ++i) prompt += "cat ";
  EXPECT_EQ(tokenizer.Encode(prompt, &cut).back(), kEos);
  EXPECT_EQ(cut, 0);
}

// Beyond the fixture: ids from a Python port of transformers 4.39's slow
// CLIPTokenizer (BasicTokenizer + `regex` + unicodedata of CPython 3.11,
// Unicode 14) that reproduces every fixture prompt. They pin down the
// Python-specific behaviour: special tokens typed in upper case (lower-cased
// by BasicTokenizer, then caught by the regex), U+017F folding under
// IGNORECASE, full lower-casing (U+0130) with final sigma, Unicode
// whitespace, dropped format/control/private-use/post-Unicode-14
// characters, NFC, CJK spacing, U+0345 matching no regex alternative.
TEST(ClipTokenizerTest, MatchesPythonOnUnicodeEdgeCases) {
  const ClipTokenizer tokenizer = LoadFixtureTokenizer();
  const std::vector<std::pair<std::string, std::vector<int64_t>>> cases = {
      {"A <|ENDOFTEXT|> b", {320, 49407, 321}},
      {"<|\xc5\xbftartoftext|>",
       {27, 91, 129, 123, 2002, 6659, 18169, 91, 285}},
      {"\xc4\xb0stanbul \xce\x9f\xce\x94\xce\x9f\xce\xa3 \xce\xa3",
       {328, 16384, 11231, 138, 123, 138, 112, 138, 123, 139, 480, 139, 481}},
      {"non\xc2\xa0"
       "breaking\xe3\x80\x80ideographic\xe2\x80\xa8line\xe2\x80\xa9para",
       {3353, 2755, 1909, 78, 4245, 1148, 8976}},
      {"family "
       "\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x91"
       "\xa7 and \xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd",
       {1315, 18966, 18800, 964, 356, 537, 43722}},
      {"cafe\xcc\x81 vs caf\xc3\xa9", {15304, 1547, 15304}},
      {"\xef\xbd\x86\xef\xbd\x95\xef\xbd\x8c\xef\xbd\x8c\xef\xbd\x97\xef\xbd"
       "\x89\xef\xbd\x84\xef\xbd\x94\xef\xbd\x88 "
       "\xef\xbc\x91\xef\xbc\x92\xef\xbc\x93",
       {171, 121, 228, 171, 121, 243, 171, 121, 234, 171, 121, 234,
        171, 121, 245, 171, 121, 231, 171, 121, 226, 171, 121, 242,
        171, 121, 486, 171, 120, 495, 171, 120, 496, 171, 120, 497}},
      {"x\xcd\x85y \xe1\xbe\xb3", {343, 344, 157, 122, 367}},
      {"tab\x09new\x0aline\x0bvt\x0c"
       "ff\xc2\x85nel\x1c"
       "fs\x7f"
       "del",
       {14724, 686, 1254, 776, 83, 1021, 5476, 23699, 2003}},
      {"!'s ''ll 'RE", {13222, 338, 8445, 865, 982}},
      {"soft\xc2\xadhyphen zero\xe2\x80\x8bwidth",
       {1571, 7804, 745, 576, 14867, 23571}},
      {"\xe4\xb8\xad\xe6\x96\x87\xe5\xad\x97\xe7\xac\xa6 "
       "\xed\x95\x9c\xea\xb5\xad\xec\x96\xb4 "
       "\xe3\x81\xab\xe3\x81\xbb\xe3\x82\x93\xe3\x81\x94",
       {19759, 511,   29032, 485,   35751, 501,   163, 105,
        355,   15197, 250,   31871, 255,   31625, 368, 4813,
        104,   4813,  119,   3909,  241,   4813,  498}},
      {"\xf0\x9f\x98\x80\xf0\x9f\x9a\x80 "
       "\xf0\x9d\x94\x98\xf0\x9d\x94\xab\xf0\x9d\x94\xa6\xf0\x9d\x94\xa0\xf0"
       "\x9d\x94\xac\xf0\x9d\x94\xa1\xf0\x9d\x94\xa2 \xe2\x85\xab\xe2\x85\xa2 "
       "\xc2\xbd",
       {12832, 13542, 6874, 242, 246,  6874, 242, 104,  6874, 242,
        99,    6874,  242,  254, 6874, 242,  105, 6874, 242,  94,
        6874,  242,   351,  158, 227,  375,  158, 227,  366,  33613}},
      {"\xee\x80\x80x a\xf0\x9e\x80\xb0"
       "b",
       {343, 3937}},
      {"\xe2\x84\xaa \xc3\x9f \xe1\xba\x9e", {330, 127, 509, 127, 509}},
      {"<|startoftext|><|endoftext|>", {49406, 49407}},
      {"   ", {}},
      {"\xef\xa4\x80\xf0\xaf\xa0\x80", {164, 109, 486, 19759, 377}},
  };
  for (const auto& [text, want] : cases) {
    SCOPED_TRACE(text);
    EXPECT_EQ(tokenizer.Tokenize(text), want);
  }
}

TEST(ClipTokenizerTest, RepeatedWordsHitTheCacheWithSameIds) {
  const ClipTokenizer tokenizer = LoadFixtureTokenizer();
  const std::vector<int64_t> one = tokenizer.Tokenize("corgi,");
  std::vector<int64_t> twice = one;
  twice.insert(twice.end(), one.begin(), one.end());
  EXPECT_EQ(tokenizer.Tokenize("corgi, corgi,"), twice);
  EXPECT_EQ(tokenizer.Tokenize("corgi,"), one);
}

// Invalid bytes are dropped (as U+FFFD, which BasicTokenizer removes).
TEST(ClipTokenizerTest, InvalidUtf8IsDroppedNotFatal) {
  const ClipTokenizer tokenizer = LoadFixtureTokenizer();
  EXPECT_EQ(tokenizer.Tokenize("a\xff"
                               "b"),
            tokenizer.Tokenize("ab"));
  EXPECT_EQ(tokenizer.Tokenize("caf\xc3"), tokenizer.Tokenize("caf"));
  // Overlong "/" and a UTF-8-encoded surrogate are invalid too.
  EXPECT_EQ(tokenizer.Tokenize("x\xc0\xaf"
                               "y\xed\xa0\x80z"),
            tokenizer.Tokenize("xyz"));
  // Bytes splitting a special token: the split misses it, the clean-up
  // rejoins it and the regex still maps it to EOS, as Python would.
  EXPECT_EQ(tokenizer.Tokenize("<|endof\xfftext|>"),
            std::vector<int64_t>{kEos});
  EXPECT_EQ(tokenizer.Tokenize(std::string("a\0b", 3)),
            tokenizer.Tokenize("ab"));

  std::mt19937 rng(7);
  for (int n = 0; n < 500; ++n) {
    std::string bytes(rng() % 64, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    const std::vector<int64_t> ids = tokenizer.Encode(bytes);
    ASSERT_EQ(ids.size(), 77u);
    for (int64_t id : ids) {
      ASSERT_GE(id, 0);
      ASSERT_LE(id, kEos);
    }
  }
}

// A tokenizer folder written into the test's temporary directory.
class BadFolderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    Write("vocab.json",
          R"({"a": 0, "b": 1, "a</w>": 2, "b</w>": 3, "ab</w>": 4,)"
          R"( "<|startoftext|>": 5, "<|endoftext|>": 6})");
    Write("merges.txt", "#version: 0.2\na b</w>\n");
    Write("tokenizer_config.json", R"({"model_max_length": 8})");
  }
  void Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name, std::ios::binary) << text;
  }
  absl::Status Load() {
    return ClipTokenizer::LoadFolder(dir_.string()).status();
  }
  std::filesystem::path dir_;
};

TEST_F(BadFolderTest, MinimalFolderLoadsAndFallsBackToUnk) {
  absl::StatusOr<ClipTokenizer> tokenizer =
      ClipTokenizer::LoadFolder(dir_.string());
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
  EXPECT_EQ(tokenizer->max_length(), 8);
  // "ab" merges to "ab</w>"; "c" is unknown, so unk (<|endoftext|>).
  EXPECT_EQ(tokenizer->Encode("AB c"),
            (std::vector<int64_t>{5, 4, 6, 6, 6, 6, 6, 6}));
}

TEST_F(BadFolderTest, MissingVocab) {
  std::filesystem::remove(dir_ / "vocab.json");
  const absl::Status status = Load();
  EXPECT_TRUE(absl::IsNotFound(status)) << status;
  EXPECT_NE(status.message().find("vocab.json"), std::string::npos) << status;
}

TEST_F(BadFolderTest, VocabNotJson) {
  Write("vocab.json", "{\"a\": 0,");
  const absl::Status status = Load();
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_NE(status.message().find("vocab.json: not valid JSON"),
            std::string::npos)
      << status;
}

TEST_F(BadFolderTest, MalformedMergesLineNamesTheLine) {
  Write("merges.txt", "#version: 0.2\na b</w>\na b c\n");
  const absl::Status status = Load();
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_NE(status.message().find("merges.txt:3: malformed merge"),
            std::string::npos)
      << status;
}

TEST_F(BadFolderTest, VocabWithoutSpecialTokens) {
  Write("vocab.json", R"({"a": 0, "b": 1, "a</w>": 2, "b</w>": 3})");
  const absl::Status status = Load();
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_NE(status.message().find("special token \"<|startoftext|>\""),
            std::string::npos)
      << status;
}

TEST_F(BadFolderTest, BadModelMaxLength) {
  Write("tokenizer_config.json", R"({"model_max_length": 1e30})");
  const absl::Status status = Load();
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_NE(status.message().find("model_max_length"), std::string::npos)
      << status;
}

// added_tokens_decoder gives ids that vocab.json lacks, and its flags apply.
TEST_F(BadFolderTest, AddedTokensDecoderSuppliesIds) {
  Write("vocab.json", R"({"a": 0, "b": 1, "a</w>": 2, "b</w>": 3})");
  Write("tokenizer_config.json", R"({
    "model_max_length": 6,
    "added_tokens_decoder": {
      "7": {"content": "<|startoftext|>"},
      "8": {"content": "<|endoftext|>"},
      "9": {"content": "<x>", "lstrip": true, "rstrip": true}
    }})");
  absl::StatusOr<ClipTokenizer> tokenizer =
      ClipTokenizer::LoadFolder(dir_.string());
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
  EXPECT_EQ(tokenizer->bos_id(), 7);
  EXPECT_EQ(tokenizer->pad_id(), 8);
  EXPECT_EQ(tokenizer->Tokenize("a <x> b<|endoftext|>"),
            (std::vector<int64_t>{2, 9, 3, 8}));
}

}  // namespace
}  // namespace reelfarm::pipeline
