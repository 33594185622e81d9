#include <gtest/gtest.h>
#include <torch/torch.h>

#include "node/pipeline/animatediff/unet_model.h"
#include "node/pipeline/weights/json_config.h"
#include "node/pipeline/weights/safetensors.h"
#include "node/pipeline/weights/state_dict.h"
#include "tests/pipeline/fixtures.h"

namespace reelfarm::pipeline {
namespace {

using testing::FixturePath;
using testing::IsClose;

UNetConfig FixtureUNetConfig() {
  auto json = ReadJsonFile(FixturePath("pipeline/unet/config.json"));
  EXPECT_TRUE(json.ok()) << json.status();
  auto config = UNetConfig::FromJson(*json, "unet/config.json");
  EXPECT_TRUE(config.ok()) << config.status();
  return *config;
}

MotionConfig FixtureMotionConfig() {
  auto json = ReadJsonFile(FixturePath("motion_adapter/config.json"));
  EXPECT_TRUE(json.ok()) << json.status();
  auto config = MotionConfig::FromJson(*json, "motion_adapter/config.json");
  EXPECT_TRUE(config.ok()) << config.status();
  return *config;
}

TensorMap UNetWeights(bool with_motion) {
  auto unet = LoadSafetensors(
      FixturePath("pipeline/unet/diffusion_pytorch_model.safetensors"));
  EXPECT_TRUE(unet.ok()) << unet.status();
  TensorMap all = *unet;
  if (with_motion) {
    auto motion = LoadSafetensors(
        FixturePath("motion_adapter/diffusion_pytorch_model.safetensors"));
    EXPECT_TRUE(motion.ok()) << motion.status();
    all.insert(motion->begin(), motion->end());
  }
  return all;
}

class UNetTest : public ::testing::Test {
 protected:
  void SetUp() override { ref_ = testing::LoadReferenceTensors("unet"); }
  TensorMap ref_;
};

TEST_F(UNetTest, MotionUNetMatchesDiffusers) {
  UNet unet(FixtureUNetConfig(), FixtureMotionConfig());
  absl::Status loaded =
      LoadStateDict(*unet, UNetWeights(true), "", "unet", {"pos_embed.pe"});
  ASSERT_TRUE(loaded.ok()) << loaded;
  unet->eval();
  torch::NoGradGuard no_grad;
  Probes probes;
  torch::Tensor out = unet->forward(ref_.at("sample"), ref_.at("timestep_int"),
                                    ref_.at("encoder_hidden_states"), &probes);
  const int64_t frames = ref_.at("sample").size(2);
  for (const auto& [name, tensor] : ref_) {
    if (name.rfind("probe.", 0) != 0) continue;
    const std::string key = name.substr(6);
    ASSERT_TRUE(probes.count(key)) << key;
    torch::Tensor mine = probes.at(key);
    // Activations were stored for batch element 0's frames only.
    if (key != "time_proj" && key != "time_embedding") {
      mine = mine.slice(0, 0, frames);
    }
    EXPECT_TRUE(IsClose(mine, tensor, 2e-5, 5e-5)) << key;
  }
  EXPECT_TRUE(IsClose(out, ref_.at("motion_out_t_int"), 2e-5, 5e-5));
  torch::Tensor out_f =
      unet->forward(ref_.at("sample"), ref_.at("timestep_float"),
                    ref_.at("encoder_hidden_states"));
  EXPECT_TRUE(IsClose(out_f, ref_.at("motion_out_t_float"), 2e-5, 5e-5));
}

TEST_F(UNetTest, PlainUNetMatchesDiffusers) {
  UNet unet(FixtureUNetConfig(), std::nullopt);
  absl::Status loaded = LoadStateDict(*unet, UNetWeights(false), "", "unet");
  ASSERT_TRUE(loaded.ok()) << loaded;
  unet->eval();
  torch::NoGradGuard no_grad;
  torch::Tensor out =
      unet->forward(ref_.at("sample_2d"), ref_.at("timestep_int"),
                    ref_.at("encoder_hidden_states_2d"));
  EXPECT_TRUE(IsClose(out, ref_.at("unet2d_out_t_int"), 2e-5, 5e-5));
}

TEST_F(UNetTest, MotionWeightsAreRequired) {
  UNet unet(FixtureUNetConfig(), FixtureMotionConfig());
  absl::Status st = LoadStateDict(*unet, UNetWeights(false), "", "unet");
  EXPECT_NE(st.message().find("motion_modules"), std::string::npos) << st;
}

}  // namespace
}  // namespace reelfarm::pipeline
