#include <gtest/gtest.h>
#include <torch/torch.h>

#include "node/pipeline/animatediff/animatediff_pipeline.h"
#include "node/pipeline/weights/json_config.h"
#include "tests/pipeline/fixtures.h"

namespace reelfarm::pipeline {
namespace {

using testing::FixturePath;
using testing::IsClose;

VideoRequest FixtureRequest() {
  const nlohmann::json params =
      testing::LoadReferenceJson("pipeline")["params"];
  VideoRequest r;
  r.prompt = params["prompt"];
  r.negative_prompt = params["negative_prompt"];
  r.seed = params["seed"];
  r.width = params["width"];
  r.height = params["height"];
  r.frames = params["num_frames"];
  r.steps = params["num_inference_steps"];
  r.guidance_scale = params["guidance_scale"];
  r.scheduler = "ddim";
  return r;
}

MotionConfig FixtureMotionConfig() {
  auto json = ReadJsonFile(FixturePath("motion_adapter/config.json"));
  EXPECT_TRUE(json.ok());
  return *MotionConfig::FromJson(*json, "config.json");
}

// Renders the fixture's pipeline case and checks every recorded tensor.
void ExpectMatchesReference(const ModelSources& sources) {
  auto models = LoadModelBundle(sources);
  ASSERT_TRUE(models.ok()) << models.status();
  const TensorMap ref = testing::LoadReferenceTensors("pipeline");
  PipelineTrace trace;
  PipelineHooks hooks;
  hooks.trace = &trace;
  auto frames = RenderVideo(**models, FixtureRequest(), hooks);
  ASSERT_TRUE(frames.ok()) << frames.status();
  EXPECT_TRUE(torch::equal(trace.timesteps, ref.at("timesteps")));
  EXPECT_TRUE(IsClose(trace.initial_noise, ref.at("initial_noise"), 0, 2e-6));
  EXPECT_TRUE(
      IsClose(trace.prompt_embeds, ref.at("prompt_embeds"), 1e-5, 1e-5));
  EXPECT_TRUE(IsClose(trace.negative_prompt_embeds,
                      ref.at("negative_prompt_embeds"), 1e-5, 1e-5));
  for (size_t i = 0; i < trace.latents.size(); ++i) {
    const std::string step = "step." + std::to_string(i);
    EXPECT_TRUE(
        IsClose(trace.unet_out[i], ref.at(step + ".unet_out"), 1e-4, 1e-4))
        << step;
    EXPECT_TRUE(
        IsClose(trace.latents[i], ref.at(step + ".latents"), 1e-4, 1e-4))
        << step;
  }
  EXPECT_TRUE(
      IsClose(trace.latents.back(), ref.at("final_latents"), 1e-4, 1e-4));
  EXPECT_TRUE(IsClose(*frames, ref.at("frames")[0], 1e-4, 2e-4));
}

TEST(PipelineTest, DiffusersFolderAndMotionAdapter) {
  ModelSources sources;
  sources.base = FixturePath("pipeline");
  sources.motion_module = FixturePath("motion_adapter");
  ExpectMatchesReference(sources);
}

TEST(PipelineTest, SingleFileAndOriginalMotionCkpt) {
  ModelSources sources;
  sources.base = FixturePath("pipeline");
  sources.dreambooth = FixturePath("original/sd15_tiny_ldm.safetensors");
  sources.motion_module =
      FixturePath("original/animatediff_motion_module_v2_tiny.ckpt");
  sources.motion_config = FixtureMotionConfig();
  ExpectMatchesReference(sources);
}

TEST(PipelineTest, SingleFileAndOriginalMotionSafetensors) {
  ModelSources sources;
  sources.base = FixturePath("pipeline");
  sources.dreambooth = FixturePath("original/sd15_tiny_ldm.safetensors");
  sources.motion_module =
      FixturePath("original/animatediff_motion_module_v2_tiny.safetensors");
  sources.motion_config = FixtureMotionConfig();
  ExpectMatchesReference(sources);
}

TEST(PipelineTest, BadSourcesAreClearErrors) {
  ModelSources sources;
  sources.base = FixturePath("original");
  EXPECT_NE(LoadModelBundle(sources).status().message().find(
                "not a diffusers folder"),
            std::string::npos);
  sources.base = FixturePath("pipeline");
  sources.dreambooth =
      FixturePath("original/animatediff_motion_module_v2_tiny.safetensors");
  EXPECT_NE(LoadModelBundle(sources).status().message().find(
                "not a single-file SD checkpoint"),
            std::string::npos);
}

TEST(PipelineTest, CancelStopsBetweenSteps) {
  ModelSources sources;
  sources.base = FixturePath("pipeline");
  sources.motion_module = FixturePath("motion_adapter");
  auto models = LoadModelBundle(sources);
  ASSERT_TRUE(models.ok()) << models.status();
  int steps_seen = 0;
  PipelineHooks hooks;
  hooks.progress = [&](int64_t, int64_t) { ++steps_seen; };
  hooks.cancelled = [&] { return steps_seen >= 2; };
  auto frames = RenderVideo(**models, FixtureRequest(), hooks);
  EXPECT_EQ(frames.status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(steps_seen, 2);
}

// bfloat16 weights on the CPU (the GPU path uses float16 the same way):
// close to the float32 render, not equal.
TEST(PipelineTest, HalfPrecisionWeights) {
  ModelSources sources;
  sources.base = FixturePath("pipeline");
  sources.motion_module = FixturePath("motion_adapter");
  auto models = LoadModelBundle(sources);
  ASSERT_TRUE(models.ok()) << models.status();
  auto dtype = ParsePrecision("bf16");
  ASSERT_TRUE(dtype.ok());
  (*models)->To(torch::kCPU, *dtype);
  auto frames = RenderVideo(**models, FixtureRequest());
  ASSERT_TRUE(frames.ok()) << frames.status();
  EXPECT_EQ(frames->scalar_type(), torch::kFloat32);
  const TensorMap ref = testing::LoadReferenceTensors("pipeline");
  const auto c = testing::Compare(*frames, ref.at("frames")[0]);
  // bfloat16 keeps 8 bits of mantissa and the tiny random model amplifies
  // them (latents reach ~100); a broken cast gives ~1 or throws.
  EXPECT_LT(c.rel_l2, 0.3);
  EXPECT_FALSE(ParsePrecision("fp8").ok());
}

// Channels-last convolution weights (the CUDA layout) give the same frames.
TEST(PipelineTest, ChannelsLastWeights) {
  ModelSources sources;
  sources.base = FixturePath("pipeline");
  sources.motion_module = FixturePath("motion_adapter");
  auto models = LoadModelBundle(sources);
  ASSERT_TRUE(models.ok()) << models.status();
  (*models)->To(torch::kCPU, torch::kFloat32, /*channels_last=*/true);
  auto frames = RenderVideo(**models, FixtureRequest());
  ASSERT_TRUE(frames.ok()) << frames.status();
  const TensorMap ref = testing::LoadReferenceTensors("pipeline");
  EXPECT_TRUE(IsClose(*frames, ref.at("frames")[0], 1e-4, 2e-4));
}

}  // namespace
}  // namespace reelfarm::pipeline
