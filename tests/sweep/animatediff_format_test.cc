// AnimateDiff's config layouts, read as animate.py reads them.
#include <cstdint>
#include <limits>
#include <string>

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
using testing_util::ScopedCwd;
using testing_util::ScratchDir;
using testing_util::WriteAnimateDiffModels;

std::vector<std::string> Fields(const v1::AxisGroup& group) {
  std::vector<std::string> fields;
  for (const v1::Axis& axis : group.axes()) fields.push_back(axis.field());
  return fields;
}

// Model files live in a scratch folder that is also the cwd, as when
// animate.py runs from AnimateDiff's checkout.
class AnimateDiffFormatTest : public ::testing::Test {
 protected:
  AnimateDiffFormatTest() : cwd_(scratch_.path()) {
    WriteAnimateDiffModels(scratch_);
    options_.draw_seed = [this] { return next_seed_++; };
  }

  std::string Model(const std::string& relative) const {
    return scratch_.path() + "/" + relative;
  }

  ScratchDir scratch_;
  ScopedCwd cwd_;
  LoadOptions options_;  // checks model files
  uint64_t next_seed_ = 1000;
};

TEST_F(AnimateDiffFormatTest, V1MapWithMotionModuleList) {
  absl::StatusOr<v1::SweepSpec> spec =
      LoadSweepFile(DataPath("animatediff_v1_map.yaml"), options_);
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->name(), "animatediff_v1_map");
  EXPECT_EQ(spec->output_dir(), Model("outputs/animatediff_v1_map"));
  EXPECT_EQ(spec->renderer().name(), "animatediff");
  EXPECT_EQ(spec->drawn_seeds_size(), 0);
  EXPECT_EQ(spec->warnings_size(), 0);
  ASSERT_EQ(spec->blocks_size(), 2);

  const v1::SweepBlock& water = spec->blocks(0);
  EXPECT_EQ(water.name(), "Watercolor");
  EXPECT_EQ(water.source_location(),
            DataPath("animatediff_v1_map.yaml") + ":3:1");
  // motion_module list: the outer axis; prompt/n_prompt/seed zipped inside.
  ASSERT_EQ(water.groups_size(), 2);
  EXPECT_EQ(Fields(water.groups(0)), std::vector<std::string>{"motion_module"});
  EXPECT_EQ(Fields(water.groups(1)),
            (std::vector<std::string>{"prompt", "n_prompt", "seed"}));
  const v1::Axis& mm = water.groups(0).axes(0);
  ASSERT_EQ(mm.values_size(), 2);
  EXPECT_EQ(mm.values(0).model().path(),
            Model("models/Motion_Module/mm_sd_v14.ckpt"));
  EXPECT_TRUE(absl::StartsWith(mm.values(0).model().digest(), "sha256:"));
  EXPECT_NE(mm.values(0).model().digest(), mm.values(1).model().digest());
  const v1::Axis& seeds = water.groups(1).axes(2);
  ASSERT_EQ(seeds.values_size(), 4);
  EXPECT_EQ(seeds.values(0).unsigned_integer(), 101u);
  EXPECT_EQ(seeds.values(3).unsigned_integer(),
            std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(water.groups(1).axes(1).values(1).text(), "blurry, lowres");

  // v1: base "" and path set -> path is the DreamBooth checkpoint.
  const v1::RenderParams& base = water.base();
  EXPECT_EQ(base.models().dreambooth().path(),
            Model("models/DreamBooth_LoRA/watercolor.safetensors"));
  EXPECT_EQ(base.models().loras_size(), 0);
  // animate.py's flag defaults fill the rest.
  EXPECT_EQ(base.models().base().path(),
            Model("models/StableDiffusion/stable-diffusion-v1-5"));
  EXPECT_TRUE(absl::StartsWith(base.models().base().digest(), "sha256:"));
  EXPECT_EQ(base.models().inference_config().path(),
            Model("configs/inference/inference-v1.yaml"));
  EXPECT_EQ(base.width(), 512u);
  EXPECT_EQ(base.height(), 512u);
  EXPECT_EQ(base.frames(), 16u);
  EXPECT_EQ(base.steps(), 25u);
  EXPECT_EQ(base.guidance_scale(), 7.5);
  EXPECT_EQ(base.scheduler(), "ddim");

  // v1: base and path set -> base is the DreamBooth, path a LoRA on it.
  const v1::SweepBlock& plush = spec->blocks(1);
  EXPECT_EQ(plush.base().models().dreambooth().path(),
            Model("models/DreamBooth_LoRA/photoreal.safetensors"));
  ASSERT_EQ(plush.base().models().loras_size(), 1);
  EXPECT_EQ(plush.base().models().loras(0).model().path(),
            Model("models/DreamBooth_LoRA/plush_toy_lora.safetensors"));
  EXPECT_EQ(plush.base().models().loras(0).alpha(), 0.6);
  const v1::AxisGroup& pairs = plush.groups(1);
  ASSERT_EQ(pairs.axes(2).values_size(), 2);  // int seed repeated
  EXPECT_EQ(pairs.axes(2).values(1).unsigned_integer(), 7u);
  EXPECT_EQ(pairs.axes(1).values(1).text(), "worst quality");

  // 2 motion modules x 4 prompts, then 2 x 2.
  EXPECT_EQ(JobCount(*spec), 8u + 4u);
  v1::SweepSpec only_water = *spec;
  only_water.mutable_blocks()->RemoveLast();
  EXPECT_EQ(JobCount(only_water), 8u);

  // Order: motion module outermost.
  absl::StatusOr<SweepExpander> ex = SweepExpander::Create(*spec);
  ASSERT_TRUE(ex.ok());
  v1::RenderParams p;
  ex->ParamsAt(1, &p, nullptr);
  EXPECT_EQ(p.prompt(), "a fox in the snow, watercolor");
  EXPECT_EQ(p.models().motion_module().path(),
            Model("models/Motion_Module/mm_sd_v14.ckpt"));
  ex->ParamsAt(4, &p, nullptr);
  EXPECT_EQ(p.prompt(), "a lighthouse on a cliff, watercolor");
  EXPECT_EQ(p.seed(), 101u);
  EXPECT_EQ(p.models().motion_module().path(),
            Model("models/Motion_Module/mm_sd_v15.ckpt"));
}

TEST_F(AnimateDiffFormatTest, V2MapWithMotionLoras) {
  absl::StatusOr<v1::SweepSpec> spec =
      LoadSweepFile(DataPath("animatediff_v2_map.yaml"), options_);
  ASSERT_TRUE(spec.ok()) << spec.status();
  ASSERT_EQ(spec->blocks_size(), 2);
  EXPECT_EQ(spec->blocks(0).name(), "PanLeft");
  EXPECT_EQ(spec->blocks(1).name(), "TiltUp");
  const v1::ModelSet& models = spec->blocks(1).base().models();
  // A one-element motion_module list is just the motion module.
  EXPECT_EQ(spec->blocks(1).groups_size(), 1);
  EXPECT_EQ(models.motion_module().path(),
            Model("models/Motion_Module/mm_sd_v15_v2.ckpt"));
  ASSERT_EQ(models.motion_loras_size(), 1);
  EXPECT_EQ(models.motion_loras(0).model().path(),
            Model("models/MotionLoRA/v2_lora_TiltUp.ckpt"));
  EXPECT_EQ(models.motion_loras(0).alpha(), 0.75);
  EXPECT_EQ(models.loras_size(), 0);  // lora_model_path: "" means none
  EXPECT_EQ(models.inference_config().path(),
            Model("configs/inference/inference-v2.yaml"));
  EXPECT_EQ(JobCount(*spec), 2u);
  // Same prompt and seed; the MotionLoRA alone tells the jobs apart.
  absl::StatusOr<SweepExpander> ex = SweepExpander::Create(*spec);
  ASSERT_TRUE(ex.ok());
  EXPECT_NE(ex->JobIdAt(0), ex->JobIdAt(1));
}

TEST_F(AnimateDiffFormatTest, V3ListWithAdapterAndSparseCtrl) {
  absl::StatusOr<v1::SweepSpec> spec =
      LoadSweepFile(DataPath("animatediff_v3_list.yaml"), options_);
  ASSERT_TRUE(spec.ok()) << spec.status();
  ASSERT_EQ(spec->blocks_size(), 2);
  EXPECT_EQ(spec->blocks(0).name(), "0");
  EXPECT_EQ(spec->blocks(1).name(), "1");
  EXPECT_EQ(spec->blocks(1).source_location(),
            DataPath("animatediff_v3_list.yaml") + ":26:3");

  const v1::RenderParams& first = spec->blocks(0).base();
  EXPECT_EQ(first.width(), 384u);
  EXPECT_EQ(first.height(), 256u);
  EXPECT_EQ(first.models().adapter_lora().model().path(),
            Model("models/Motion_Module/v3_sd15_adapter.ckpt"));
  EXPECT_EQ(first.models().adapter_lora().alpha(), 0.9);
  EXPECT_EQ(spec->blocks(1).base().models().adapter_lora().alpha(), 1.0);
  EXPECT_EQ(first.models().motion_module().path(),
            Model("models/Motion_Module/v3_sd15_mm.ckpt"));

  // SparseCtrl keys: accepted, reported once, located.
  ASSERT_EQ(spec->warnings_size(), 1);
  EXPECT_TRUE(absl::StartsWith(
      spec->warnings(0),
      DataPath("animatediff_v3_list.yaml") + ":32:3: controlnet_config: "))
      << spec->warnings(0);
  EXPECT_TRUE(absl::StrContains(spec->warnings(0), "SparseCtrl"));
  EXPECT_TRUE(absl::StrContains(spec->warnings(0), "controlnet_images"));

  // seed: -1 with two prompts draws two seeds, recorded in order.
  EXPECT_EQ(std::vector<uint64_t>(spec->drawn_seeds().begin(),
                                  spec->drawn_seeds().end()),
            (std::vector<uint64_t>{1000, 1001}));
  const v1::Axis& seeds = spec->blocks(1).groups(0).axes(2);
  EXPECT_EQ(seeds.values(0).unsigned_integer(), 1000u);
  EXPECT_EQ(seeds.values(1).unsigned_integer(), 1001u);
  EXPECT_EQ(JobCount(*spec), 4u + 2u);
}

TEST_F(AnimateDiffFormatTest, FlagsFillWhatTheConfigLeavesOut) {
  scratch_.Write("sd/unet/w.bin");
  scratch_.Write("inference.yaml");
  options_.width = 256;
  options_.frames = 8;
  options_.pretrained_model_path = "sd";
  options_.inference_config = "inference.yaml";
  absl::StatusOr<v1::SweepSpec> spec = ParseSweepText(R"(
- motion_module: models/Motion_Module/v3_sd15_mm.ckpt
  H: 320
  steps: 10
  guidance_scale: 6
  prompt: [a bee]
)",
                                                      "flags.yaml", options_);
  ASSERT_TRUE(spec.ok()) << spec.status();
  const v1::RenderParams& base = spec->blocks(0).base();
  EXPECT_EQ(base.width(), 256u);   // --W
  EXPECT_EQ(base.height(), 320u);  // the entry's own H wins over --H
  EXPECT_EQ(base.frames(), 8u);    // --L
  EXPECT_EQ(base.models().base().path(), Model("sd"));
  EXPECT_EQ(base.models().inference_config().path(), Model("inference.yaml"));
}

TEST(AnimateDiffPairingTest, RepeatsDrawsAndZips) {
  LoadOptions options = NoModelCheck(/*first_seed=*/50);
  options.renderer = "test-pattern";
  absl::StatusOr<v1::SweepSpec> spec = ParseSweepText(R"(
- steps: 4
  guidance_scale: 7
  prompt: [a, b, c]
- steps: 4
  guidance_scale: 7
  seed: 9
  prompt: "just one"
  n_prompt: [x]
- steps: 4
  guidance_scale: 7
  random_seed: [5, 6]
  prompt: [p, q]
  n_prompt: [m, n]
)",
                                                      "pairs.yaml", options);
  ASSERT_TRUE(spec.ok()) << spec.status();
  // No seed: one draw per prompt, as animate.py's torch.seed() per prompt.
  const v1::AxisGroup& g0 = spec->blocks(0).groups(0);
  EXPECT_EQ(g0.axes(2).values(0).unsigned_integer(), 50u);
  EXPECT_EQ(g0.axes(2).values(2).unsigned_integer(), 52u);
  EXPECT_EQ(g0.axes(1).values(2).text(), "");  // no n_prompt: ""
  EXPECT_EQ(spec->drawn_seeds_size(), 3);
  // A string prompt is one prompt; an int seed a one-element list.
  EXPECT_EQ(spec->blocks(1).groups(0).axes(0).values_size(), 1);
  EXPECT_EQ(spec->blocks(1).groups(0).axes(2).values(0).unsigned_integer(), 9u);
  // random_seed (animate.py's saved config) stands in for a missing seed.
  EXPECT_EQ(spec->blocks(2).groups(0).axes(2).values(1).unsigned_integer(), 6u);
  EXPECT_EQ(JobCount(*spec), 3u + 1u + 2u);
  // test-pattern renderer: animate.py's default model paths are not needed.
  EXPECT_FALSE(spec->blocks(0).base().models().has_base());
}

TEST(AnimateDiffV1Test, BaseWithoutPathIsIgnoredWithAWarning) {
  absl::StatusOr<v1::SweepSpec> spec =
      ParseSweepText(R"(Old:
  base: "models/a.safetensors"
  path: ""
  motion_module: "models/mm.ckpt"
  steps: 25
  guidance_scale: 7.5
  prompt: [x]
)",
                     "old.yaml", NoModelCheck());
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_FALSE(spec->blocks(0).base().models().has_dreambooth());
  ASSERT_EQ(spec->warnings_size(), 1);
  EXPECT_TRUE(absl::StartsWith(spec->warnings(0), "old.yaml:2:9: base: "));
}

TEST(AnimateDiffV1Test, V1KeysDoNotMixWithV2Keys) {
  absl::Status st = ParseSweepText(R"(Old:
  path: "models/a.safetensors"
  dreambooth_path: "models/b.safetensors"
  steps: 25
  guidance_scale: 7.5
  prompt: [x]
)",
                                   "mixed.yaml", NoModelCheck())
                        .status();
  EXPECT_TRUE(ErrorIs(st, absl::StatusCode::kInvalidArgument,
                      "mixed.yaml:2:3: path: ", "dreambooth_path"));
}

TEST(AnimateDiffTest, DomainLoraScaleIsIgnoredAndWarnedWhenNotOne) {
  absl::StatusOr<v1::SweepSpec> spec =
      ParseSweepText(R"(
- domain_lora_scale: 0.5
  steps: 25
  guidance_scale: 7.5
  prompt: [x]
)",
                     "dls.yaml", NoModelCheck());
  ASSERT_TRUE(spec.ok()) << spec.status();
  ASSERT_EQ(spec->warnings_size(), 1);
  EXPECT_TRUE(
      absl::StartsWith(spec->warnings(0), "dls.yaml:2:22: domain_lora_scale"));
}

}  // namespace
}  // namespace reelfarm::config
