// reelfarm's own form: settings, grid and zip expansion, ranges, models.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "sweep/sweep_expander.h"
#include "sweep/sweep_loader.h"
#include "gtest/gtest.h"
#include "tests/sweep/test_util.h"

namespace reelfarm::config {
namespace {

using testing_util::DataPath;
using testing_util::ErrorIs;
using testing_util::JobCount;
using testing_util::NoModelCheck;
using testing_util::ReadData;
using testing_util::ScopedCwd;
using testing_util::ScratchDir;

std::vector<double> Reals(const v1::Axis& axis) {
  std::vector<double> out;
  for (const v1::AxisValue& v : axis.values()) out.push_back(v.real());
  return out;
}

std::vector<uint64_t> Unsigned(const v1::Axis& axis) {
  std::vector<uint64_t> out;
  for (const v1::AxisValue& v : axis.values()) {
    out.push_back(v.unsigned_integer());
  }
  return out;
}

absl::StatusOr<v1::SweepSpec> Parse(
    const std::string& yaml, const LoadOptions& options = NoModelCheck()) {
  return ParseSweepText(yaml, "sweep.yaml", options);
}

TEST(ReelfarmFormatTest, GridIsACartesianProduct) {
  absl::StatusOr<v1::SweepSpec> spec =
      LoadSweepFile(DataPath("reelfarm_grid.yaml"), NoModelCheck());
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->name(), "grid-demo");
  EXPECT_EQ(spec->source_path(), DataPath("reelfarm_grid.yaml"));
  EXPECT_EQ(spec->output_dir(),
            (std::filesystem::current_path() / "outputs/grid-demo").string());
  EXPECT_EQ(spec->renderer().name(), "test-pattern");
  EXPECT_EQ(spec->renderer().test_pattern_ms_per_job(), 5u);
  EXPECT_EQ(spec->max_attempts(), 2u);
  EXPECT_EQ(spec->sharding().jobs_per_shard(), 10u);
  EXPECT_FALSE(spec->sharding().group_by_models());
  EXPECT_EQ(
      std::vector<std::string>(spec->formats().begin(), spec->formats().end()),
      (std::vector<std::string>{"frames", "gif"}));  // no mp4: no ffmpeg
  ASSERT_EQ(spec->blocks_size(), 1);
  const v1::SweepBlock& block = spec->blocks(0);
  ASSERT_EQ(block.groups_size(), 3);  // one group per grid key, in order
  EXPECT_EQ(block.groups(0).axes(0).field(), "prompt");
  EXPECT_EQ(Unsigned(block.groups(1).axes(0)),
            (std::vector<uint64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  EXPECT_EQ(Reals(block.groups(2).axes(0)),
            (std::vector<double>{5, 6, 7, 8, 9}));
  EXPECT_EQ(block.base().width(), 64u);
  EXPECT_EQ(block.base().negative_prompt(), "lowres");
  EXPECT_EQ(block.base().scheduler(), "ddim");
  EXPECT_EQ(spec->drawn_seeds_size(), 0);  // seed is swept: nothing drawn
  EXPECT_EQ(JobCount(*spec), 3u * 10u * 5u);

  // First key outermost, last innermost.
  absl::StatusOr<SweepExpander> ex = SweepExpander::Create(*spec);
  ASSERT_TRUE(ex.ok());
  v1::RenderParams p;
  ex->ParamsAt(1, &p, nullptr);
  EXPECT_EQ(p.prompt(), "a cat");
  EXPECT_EQ(p.seed(), 0u);
  EXPECT_EQ(p.guidance_scale(), 6.0);
  ex->ParamsAt(50, &p, nullptr);
  EXPECT_EQ(p.prompt(), "a dog");
}

TEST(ReelfarmFormatTest, ZipAdvancesTogetherInsideTheGrid) {
  absl::StatusOr<v1::SweepSpec> spec =
      LoadSweepFile(DataPath("reelfarm_zip.yaml"), NoModelCheck());
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->name(), "reelfarm_zip");  // default: the file's stem
  const v1::SweepBlock& block = spec->blocks(0);
  ASSERT_EQ(block.groups_size(), 2);
  EXPECT_EQ(block.groups(0).axes(0).field(), "steps");
  ASSERT_EQ(block.groups(1).axes_size(), 2);
  EXPECT_EQ(JobCount(*spec), 3u * 4u);
  absl::StatusOr<SweepExpander> ex = SweepExpander::Create(*spec);
  ASSERT_TRUE(ex.ok());
  v1::RenderParams p;
  ex->ParamsAt(5, &p, nullptr);
  EXPECT_EQ(p.steps(), 20u);
  EXPECT_EQ(p.prompt(), "a windmill");
  EXPECT_EQ(p.negative_prompt(), "people");
  EXPECT_EQ(p.seed(), 1234u);
}

TEST(ReelfarmFormatTest, SeveralZipGroups) {
  absl::StatusOr<v1::SweepSpec> spec = Parse(R"(
renderer: test-pattern
defaults: {guidance_scale: 7}
zip:
  - {prompt: [a, b]}
  - {seed: [1, 2, 3], steps: [10, 20, 30]}
)");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->blocks(0).groups_size(), 2);
  EXPECT_EQ(JobCount(*spec), 6u);
}

TEST(ReelfarmFormatTest, TestPatternLoadTime) {
  absl::StatusOr<v1::SweepSpec> spec = Parse(R"(
renderer: {name: test-pattern, ms_per_job: 5, load_ms: 2000}
defaults: {prompt: x, steps: 2, guidance_scale: 7}
)");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->renderer().test_pattern_load_ms(), 2000u);
  absl::StatusOr<v1::SweepSpec> bad = Parse(R"(
renderer: {name: test-pattern, load_ms: -1}
defaults: {prompt: x, steps: 2, guidance_scale: 7}
)");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("renderer.load_ms"), std::string::npos)
      << bad.status();
}

TEST(ReelfarmFormatTest, Ranges) {
  absl::StatusOr<v1::SweepSpec> spec = Parse(R"(
renderer: test-pattern
defaults: {prompt: x, guidance_scale: 7}
grid:
  seed: {range: [0, 10, 3]}
  steps: {range: [10, 0, -5]}
  W: {from: 64, to: 128, step: 32}
  L: {from: 1, to: 3}
zip:
  lora_alpha: {from: 0.5, to: 1.0, step: 0.1}
model:
  lora_model_path: lora.safetensors
)");
  ASSERT_TRUE(spec.ok()) << spec.status();
  const v1::SweepBlock& b = spec->blocks(0);
  EXPECT_EQ(Unsigned(b.groups(0).axes(0)), (std::vector<uint64_t>{0, 3, 6, 9}));
  EXPECT_EQ(Unsigned(b.groups(1).axes(0)), (std::vector<uint64_t>{10, 5}));
  EXPECT_EQ(Unsigned(b.groups(2).axes(0)),
            (std::vector<uint64_t>{64, 96, 128}));
  EXPECT_EQ(Unsigned(b.groups(3).axes(0)), (std::vector<uint64_t>{1, 2, 3}));
  // Real steps read back as written, both ends included.
  EXPECT_EQ(Reals(b.groups(4).axes(0)),
            (std::vector<double>{0.5, 0.6, 0.7, 0.8, 0.9, 1.0}));
  EXPECT_EQ(JobCount(*spec), 4u * 2u * 3u * 3u * 6u);
  absl::StatusOr<SweepExpander> ex = SweepExpander::Create(*spec);
  ASSERT_TRUE(ex.ok());
  v1::RenderParams p;
  ex->ParamsAt(1, &p, nullptr);
  ASSERT_EQ(p.models().loras_size(), 1);
  EXPECT_EQ(p.models().loras(0).alpha(), 0.6);
}

TEST(ReelfarmFormatTest, ModelPathsResolveAgainstTheConfigFolder) {
  ScratchDir dir;
  const std::string config =
      dir.Write("project/sweep.yaml", ReadData("reelfarm_models.yaml"));
  for (const char* model :
       {"models/sd15/unet/w.bin", "models/photoreal.safetensors",
        "models/style_lora.safetensors", "models/zoom.ckpt", "models/mm_a.ckpt",
        "models/mm_b.ckpt"}) {
    dir.Write(std::string("project/") + model, model);
  }
  dir.Write("elsewhere/.keep");
  ScopedCwd cwd(dir.path() + "/elsewhere");
  absl::StatusOr<v1::SweepSpec> spec = LoadSweepFile(config, LoadOptions());
  ASSERT_TRUE(spec.ok()) << spec.status();
  const std::string project = dir.path() + "/project/";
  // output is relative to the cwd, models to the config's folder.
  EXPECT_EQ(spec->output_dir(), dir.path() + "/elsewhere/out/models-demo");
  const v1::RenderParams& base = spec->blocks(0).base();
  EXPECT_EQ(base.models().base().path(), project + "models/sd15");
  EXPECT_TRUE(absl::StartsWith(base.models().base().digest(), "sha256:"));
  EXPECT_EQ(base.models().dreambooth().path(),
            project + "models/photoreal.safetensors");
  ASSERT_EQ(base.models().loras_size(), 1);
  EXPECT_EQ(base.models().loras(0).alpha(), 0.7);
  ASSERT_EQ(base.models().motion_loras_size(), 1);
  EXPECT_EQ(base.models().motion_loras(0).alpha(), 0.5);
  EXPECT_EQ(base.scheduler(), "euler");
  const v1::Axis& mm = spec->blocks(0).groups(0).axes(0);
  EXPECT_EQ(mm.values(1).model().path(), project + "models/mm_b.ckpt");
  EXPECT_FALSE(mm.values(1).model().digest().empty());
  EXPECT_EQ(JobCount(*spec), 2u);
  // A seed was not given: one is drawn for the sweep and recorded.
  ASSERT_EQ(spec->drawn_seeds_size(), 1);
  EXPECT_EQ(base.seed(), spec->drawn_seeds(0));
}

TEST(ReelfarmFormatTest, DefaultOutputFolderIsOneSafeFolderUnderOutputs) {
  // The sweep's name, from the config or the file's name, becomes
  // outputs/<name>: never a device name, a flag-like or hidden folder, or a
  // path with control characters in it.
  struct Case {
    std::string name_line, file, folder;
  };
  const std::vector<Case> cases = {
      {"name: CON\n", "sweep.yaml", "_CON"},
      {"name: \"-rf\"\n", "sweep.yaml", "rf"},
      {"name: \"...\"\n", "sweep.yaml", "sweep"},
      {"name: \"a\\x1bb\"\n", "sweep.yaml", "a-b"},
      {"", "../../nul.yaml", "_nul"},
      {"", "dir/.hidden.yaml", "hidden"},
  };
  const std::filesystem::path outputs =
      std::filesystem::current_path() / "outputs";
  for (const Case& c : cases) {
    absl::StatusOr<v1::SweepSpec> spec = ParseSweepText(
        c.name_line +
            "renderer: test-pattern\ndefaults: {prompt: x, steps: 2, "
            "guidance_scale: 7}\n",
        c.file, NoModelCheck());
    ASSERT_TRUE(spec.ok()) << c.name_line << c.file << ": " << spec.status();
    EXPECT_EQ(spec->output_dir(), (outputs / c.folder).string())
        << c.name_line << c.file;
  }
}

TEST(ReelfarmFormatTest, OptionsOverrideOutputAndRenderer) {
  LoadOptions options = NoModelCheck();
  options.output_dir = "/tmp/elsewhere";
  options.renderer = "test-pattern";
  options.height = 128;
  absl::StatusOr<v1::SweepSpec> spec = Parse(R"(
output: outputs/mine
renderer: animatediff
defaults: {prompt: x, steps: 2, guidance_scale: 7}
)",
                                             options);
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->output_dir(), "/tmp/elsewhere");
  EXPECT_EQ(spec->renderer().name(), "test-pattern");
  EXPECT_EQ(spec->blocks(0).base().height(), 128u);
  EXPECT_EQ(spec->blocks(0).base().width(), 512u);
  EXPECT_EQ(spec->blocks(0).base().frames(), 16u);
  EXPECT_EQ(JobCount(*spec), 1u);
}

TEST(ReelfarmFormatTest, AnimateDiffRendererNeedsABaseModel) {
  absl::Status st = Parse(R"(
defaults: {prompt: x, steps: 2, guidance_scale: 7}
)")
                        .status();
  EXPECT_TRUE(ErrorIs(st, absl::StatusCode::kInvalidArgument,
                      "sweep.yaml:2:1: pretrained_model_path: ", "required"));
  LoadOptions options = NoModelCheck();
  options.pretrained_model_path = "models/sd15";
  absl::StatusOr<v1::SweepSpec> spec = Parse(R"(
defaults: {prompt: x, steps: 2, guidance_scale: 7}
)",
                                             options);
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->blocks(0).base().models().base().path(),
            (std::filesystem::current_path() / "models/sd15").string());
}

TEST(ReelfarmFormatTest, DetectionPrefersReelfarmKeys) {
  // A map whose values look like AnimateDiff entries but which holds a
  // reelfarm key is reelfarm's form, and the entry is reported.
  absl::Status st = Parse(R"(
name: mixed
Toon:
  prompt: [x]
  steps: 2
)")
                        .status();
  EXPECT_TRUE(ErrorIs(st, absl::StatusCode::kInvalidArgument,
                      "sweep.yaml:3:1: unknown key 'Toon'",
                      "AnimateDiff entries"));
}

}  // namespace
}  // namespace reelfarm::config
