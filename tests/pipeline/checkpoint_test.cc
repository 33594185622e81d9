#include "node/pipeline/weights/checkpoint.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "absl/strings/match.h"
#include "node/pipeline/weights/safetensors.h"
#include "tests/pipeline/checkpoint_test_util.h"
#include "tests/pipeline/fixtures.h"

namespace reelfarm::pipeline {
namespace {

using ::reelfarm::pipeline::testing::FixturePath;
using ::reelfarm::pipeline::testing::FloatRange;
using ::reelfarm::pipeline::testing::PickleWriter;
using ::reelfarm::pipeline::testing::TensorItems;
using ::reelfarm::pipeline::testing::TensorSpec;
using ::reelfarm::pipeline::testing::TorchZip;
using ::reelfarm::pipeline::testing::WriteTempFile;

const char kMotionCkpt[] = "original/animatediff_motion_module_v2_tiny.ckpt";
const char kMotionSafetensors[] =
    "original/animatediff_motion_module_v2_tiny.safetensors";

// {items} as a plain dict pickle.
std::string DictPickle(const std::string& items) {
  return PickleWriter()
      .Proto()
      .Op('}')
      .Op('(')
      .Raw(items)
      .Op('u')
      .Op('.')
      .bytes();
}

bool HasSkipped(const std::vector<SkippedKey>& skipped,
                const std::string& key) {
  return std::any_of(skipped.begin(), skipped.end(),
                     [&](const SkippedKey& s) { return s.key == key; });
}

TEST(CheckpointTest, MotionModuleCkptMatchesSafetensors) {
  std::vector<SkippedKey> skipped;
  absl::StatusOr<TensorMap> ckpt =
      LoadCheckpoint(FixturePath(kMotionCkpt), &skipped);
  ASSERT_TRUE(ckpt.ok()) << ckpt.status();
  absl::StatusOr<TensorMap> st =
      LoadSafetensors(FixturePath(kMotionSafetensors));
  ASSERT_TRUE(st.ok()) << st.status();
  EXPECT_TRUE(skipped.empty());
  ASSERT_FALSE(st->empty());
  for (const auto& [name, ref] : *st) {
    auto it = ckpt->find(name);
    ASSERT_NE(it, ckpt->end()) << name;
    EXPECT_EQ(it->second.sizes(), ref.sizes()) << name;
    EXPECT_TRUE(torch::equal(it->second, ref)) << name;
  }
  // The .ckpt also carries the sinusoidal positional encodings.
  int pe = 0;
  for (const auto& [name, t] : *ckpt) {
    EXPECT_EQ(t.scalar_type(), torch::kFloat32) << name;
    EXPECT_TRUE(t.is_contiguous()) << name;
    EXPECT_EQ(t.device(), torch::kCPU) << name;
    if (st->count(name) != 0) continue;
    EXPECT_TRUE(absl::EndsWith(name, ".pos_encoder.pe")) << name;
    ASSERT_EQ(t.dim(), 3) << name;
    EXPECT_EQ(t.size(0), 1);
    EXPECT_EQ(t.size(1), 32);
    ++pe;
  }
  EXPECT_GT(pe, 0);
  EXPECT_EQ(ckpt->size(), st->size() + pe);
}

TEST(CheckpointTest, LoadWeightsFileDispatchesOnContent) {
  absl::StatusOr<TensorMap> ckpt = LoadWeightsFile(FixturePath(kMotionCkpt));
  ASSERT_TRUE(ckpt.ok()) << ckpt.status();
  absl::StatusOr<TensorMap> st =
      LoadWeightsFile(FixturePath(kMotionSafetensors));
  ASSERT_TRUE(st.ok()) << st.status();
  EXPECT_EQ(ckpt->size(), LoadCheckpoint(FixturePath(kMotionCkpt))->size());
  EXPECT_EQ(st->size(),
            LoadSafetensors(FixturePath(kMotionSafetensors))->size());
  // The extension does not matter, the content does.
  const std::string bytes = TorchZip(
      DictPickle(
          TensorItems({{"w", "FloatStorage", "0", 4, 0, {2, 2}, {2, 1}}})),
      {{"0", FloatRange(4)}});
  absl::StatusOr<TensorMap> renamed =
      LoadWeightsFile(WriteTempFile("zip.safetensors", bytes));
  ASSERT_TRUE(renamed.ok()) << renamed.status();
  EXPECT_TRUE(torch::equal(renamed->at("w"),
                           torch::arange(4, torch::kFloat32).view({2, 2})));
}

TEST(CheckpointTest, LoadWeightsFileExplainsOtherFormats) {
  // A pre-1.6 torch.save file starts with its pickled magic number.
  const std::string legacy(
      "\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8"
      "\x50\x19.",
      15);
  absl::Status s = LoadWeightsFile(WriteTempFile("old.ckpt", legacy)).status();
  EXPECT_TRUE(absl::StrContains(s.message(), "legacy")) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "safetensors")) << s;
  s = LoadWeightsFile(
          WriteTempFile("lfs.ckpt", "version https://git-lfs.github.com/x\n"))
          .status();
  EXPECT_TRUE(absl::StrContains(s.message(), "git lfs pull")) << s;
  s = LoadWeightsFile(WriteTempFile("junk.bin", "<html>nope</html>")).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(s.message(), "neither safetensors")) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "junk.bin")) << s;
  s = LoadWeightsFile(WriteTempFile("empty.bin", "")).status();
  EXPECT_FALSE(s.ok());
  s = LoadWeightsFile(::testing::TempDir() + "/does-not-exist.ckpt").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound) << s;
}

TEST(CheckpointTest, DetectsFormats) {
  std::string st(8, '\0');
  st[0] = 2;
  st += "{}";
  EXPECT_EQ(DetectWeightsFormat(st, st.size()), WeightsFormat::kSafetensors);
  st[0] = 100;  // header longer than the file
  EXPECT_EQ(DetectWeightsFormat(st, st.size()), WeightsFormat::kUnknown);
  EXPECT_EQ(DetectWeightsFormat("PK\x03\x04rest", 8), WeightsFormat::kTorchZip);
  EXPECT_EQ(DetectWeightsFormat("\x80\x02}q", 4), WeightsFormat::kLegacyTorch);
  EXPECT_EQ(DetectWeightsFormat("", 0), WeightsFormat::kUnknown);
}

TEST(CheckpointTest, UnwrapsStateDictAndSkipsMetadata) {
  const std::string inner =
      PickleWriter()
          .Op('}')
          .Op('(')
          .Raw(TensorItems({{"module.a", "FloatStorage", "0", 3, 0, {3}, {1}}}))
          .Str("module.pos")  // CLIP's int64 ids
          .Tensor("LongStorage", "1", 2, 0, {2}, {1})
          .Op('u')
          .bytes();
  const std::string pickle = PickleWriter()
                                 .Proto()
                                 .Op('}')
                                 .Op('(')
                                 .Str("epoch")
                                 .Int(3)
                                 .Str("state_dict")
                                 .Raw(inner)
                                 .Str("animatediff_config")
                                 .Op('}')
                                 .Str("fps")
                                 .Int(8)
                                 .Op('s')
                                 .Op('u')
                                 .Op('.')
                                 .bytes();
  std::vector<SkippedKey> skipped;
  absl::StatusOr<TensorMap> sd = ParseCheckpoint(
      TorchZip(pickle, {{"0", FloatRange(3)}, {"1", std::string(16, '\0')}}),
      "wrapped.ckpt", &skipped);
  ASSERT_TRUE(sd.ok()) << sd.status();
  ASSERT_EQ(sd->size(), 1u);
  EXPECT_TRUE(torch::equal(sd->at("a"), torch::arange(3, torch::kFloat32)));
  EXPECT_TRUE(HasSkipped(skipped, "epoch"));
  EXPECT_TRUE(HasSkipped(skipped, "animatediff_config"));
  EXPECT_TRUE(HasSkipped(skipped, "module.pos"));
}

TEST(CheckpointTest, SkipsConfigDictBesideTensors) {
  // AnimateDiff v3 style: tensors and a config dict side by side.
  const std::string pickle =
      DictPickle(TensorItems({{"w", "FloatStorage", "0", 2, 0, {2}, {1}}}) +
                 PickleWriter()
                     .Str("animatediff_config")
                     .Op('}')
                     .Str("use_motion_mid_block")
                     .Op('\x88')
                     .Op('s')
                     .Str("list")
                     .Op(']')
                     .bytes());
  std::vector<SkippedKey> skipped;
  absl::StatusOr<TensorMap> sd = ParseCheckpoint(
      TorchZip(pickle, {{"0", FloatRange(2)}}), "v3.ckpt", &skipped);
  ASSERT_TRUE(sd.ok()) << sd.status();
  EXPECT_EQ(sd->size(), 1u);
  ASSERT_EQ(skipped.size(), 2u);
  EXPECT_EQ(skipped[0].key, "animatediff_config");
  EXPECT_EQ(skipped[0].reason, "dict without tensors");
  EXPECT_EQ(skipped[1].key, "list");
}

TEST(CheckpointTest, WidensEveryFloatStorageType) {
  // 1.5 as F16 is 0x3E00, as BF16 0x3FC0; as F64 0x3FF8000000000000.
  const std::string half("\x00\x3e\x00\x3e", 4);
  const std::string bf16("\xc0\x3f", 2);
  const std::string f64("\0\0\0\0\0\0\xf8\x3f", 8);
  const std::string pickle = DictPickle(
      TensorItems({{"h", "HalfStorage", "0", 2, 0, {2}, {1}},
                   {"b", "BFloat16Storage", "1", 1, 0, {}, {}},
                   {"d", "DoubleStorage", "2", 1, 0, {1, 1}, {1, 1}}}));
  absl::StatusOr<TensorMap> sd = ParseCheckpoint(
      TorchZip(pickle, {{"0", half}, {"1", bf16}, {"2", f64}}), "t.ckpt");
  ASSERT_TRUE(sd.ok()) << sd.status();
  EXPECT_TRUE(torch::equal(sd->at("h"), torch::full({2}, 1.5f)));
  EXPECT_TRUE(torch::equal(sd->at("b"), torch::full({}, 1.5f)));
  EXPECT_TRUE(torch::equal(sd->at("d"), torch::full({1, 1}, 1.5f)));
  for (const auto& [name, t] : *sd) EXPECT_EQ(t.scalar_type(), torch::kFloat32);
}

TEST(CheckpointTest, HandlesOffsetsStridesAndSharedStorage) {
  // Two views of one 12-element storage: a transposed one with an offset
  // and a plain row.
  const std::string pickle = DictPickle(
      TensorItems({{"t", "FloatStorage", "0", 12, 1, {2, 3}, {1, 2}},
                   {"row", "FloatStorage", "0", 12, 8, {4}, {1}},
                   {"empty", "FloatStorage", "0", 12, 12, {0}, {1}}}));
  absl::StatusOr<TensorMap> sd =
      ParseCheckpoint(TorchZip(pickle, {{"0", FloatRange(12)}}), "v.ckpt");
  ASSERT_TRUE(sd.ok()) << sd.status();
  const torch::Tensor all = torch::arange(12, torch::kFloat32);
  EXPECT_TRUE(torch::equal(sd->at("t"), all.as_strided({2, 3}, {1, 2}, 1)));
  EXPECT_TRUE(sd->at("t").is_contiguous());
  EXPECT_TRUE(torch::equal(sd->at("row"), all.slice(0, 8)));
  EXPECT_EQ(sd->at("empty").numel(), 0);
  // The tensors share nothing: writing one leaves the other alone.
  sd->at("row").fill_(-1);
  EXPECT_EQ(sd->at("t").max().item<float>(), 6.0f);
}

TEST(CheckpointTest, ReadsOrderedDictWithMetadataAndProtocol4) {
  // state_dict() is an OrderedDict with a _metadata attribute set by BUILD;
  // protocol 4 adds FRAME, MEMOIZE, SHORT_BINUNICODE and STACK_GLOBAL.
  PickleWriter w;
  w.Proto(4).Raw(std::string("\x95\x10\0\0\0\0\0\0\0", 9));
  w.StackGlobal("collections", "OrderedDict").Op('\x94').Op(')').Op('R');
  w.Op('\x94').Op('(').Raw(std::string("\x8c\x01w", 3)).Op('\x94');
  w.Raw(TensorItems({{"", "FloatStorage", "0", 2, 0, {2}, {1}}}).substr(5));
  w.Op('u').Op('}').Str("_metadata").Op('}').Op('s').Op('b').Op('.');
  absl::StatusOr<TensorMap> sd =
      ParseCheckpoint(TorchZip(w.bytes(), {{"0", FloatRange(2)}}), "p4.ckpt");
  ASSERT_TRUE(sd.ok()) << sd.status();
  EXPECT_TRUE(torch::equal(sd->at("w"), torch::arange(2, torch::kFloat32)));
}

TEST(CheckpointTest, ReadsRebuildParameterAndMemoizedValues) {
  PickleWriter w;
  w.Proto().Op('}').Op('(').Str("p").Global("torch._utils",
                                            "_rebuild_parameter");
  w.Op('(').Raw(
      TensorItems({{"", "FloatStorage", "0", 2, 0, {2}, {1}}}).substr(5));
  w.Op('q').Raw("\x07").Op('\x88').Global("collections", "OrderedDict");
  w.Op(')').Op('R').Op('t').Op('R');
  w.Str("alias").Op('h').Raw("\x07").Op('u').Op('.');
  absl::StatusOr<TensorMap> sd =
      ParseCheckpoint(TorchZip(w.bytes(), {{"0", FloatRange(2)}}), "m.ckpt");
  ASSERT_TRUE(sd.ok()) << sd.status();
  EXPECT_TRUE(torch::equal(sd->at("p"), sd->at("alias")));
  EXPECT_NE(sd->at("p").data_ptr(), sd->at("alias").data_ptr());
}

// The fuzz seeds come from Python's own pickle and zipfile modules, so they
// check this reader against other writers than the tests' own.
TEST(CheckpointTest, ReadsArchivesWrittenByPythonZipfile) {
  const std::string dir = std::string(REELFARM_FUZZ_CORPUS) + "/pickle/";
  std::vector<std::string> names = {"stored.ckpt"};
#ifdef REELFARM_TEST_ZLIB
  names.push_back("deflated.ckpt");
#endif
  for (const std::string& name : names) {
    std::vector<SkippedKey> skipped;
    absl::StatusOr<TensorMap> sd = LoadCheckpoint(dir + name, &skipped);
    ASSERT_TRUE(sd.ok()) << sd.status();
    ASSERT_EQ(sd->size(), 3u) << name;
    const torch::Tensor all = torch::arange(12, torch::kFloat32);
    EXPECT_TRUE(torch::equal(sd->at("w"), all.view({3, 4})));
    EXPECT_TRUE(torch::equal(sd->at("t"), all.as_strided({2, 3}, {1, 2}, 1)));
    EXPECT_TRUE(torch::equal(sd->at("h"), all.slice(0, 1, 5)));
    EXPECT_TRUE(HasSkipped(skipped, "ids"));
    EXPECT_TRUE(HasSkipped(skipped, "epoch"));
    EXPECT_TRUE(HasSkipped(skipped, "cfg"));
  }
}

#ifdef REELFARM_TEST_ZLIB
TEST(CheckpointTest, InflatesDeflatedMembers) {
  const std::string pickle =
      DictPickle(TensorItems({{"w", "FloatStorage", "0", 256, 0, {256}, {1}}}));
  absl::StatusOr<TensorMap> sd = ParseCheckpoint(
      TorchZip(pickle, {{"0", FloatRange(256)}}, /*deflate=*/true), "z.ckpt");
  ASSERT_TRUE(sd.ok()) << sd.status();
  EXPECT_TRUE(torch::equal(sd->at("w"), torch::arange(256, torch::kFloat32)));
}
#endif

}  // namespace
}  // namespace reelfarm::pipeline
