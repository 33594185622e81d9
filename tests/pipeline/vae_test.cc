#include <gtest/gtest.h>
#include <torch/torch.h>

#include "node/pipeline/animatediff/vae_decoder.h"
#include "node/pipeline/weights/json_config.h"
#include "node/pipeline/weights/safetensors.h"
#include "node/pipeline/weights/state_dict.h"
#include "tests/pipeline/fixtures.h"

namespace reelfarm::pipeline {
namespace {

using testing::FixturePath;
using testing::IsClose;

TEST(VaeTest, DecoderMatchesDiffusers) {
  auto json = ReadJsonFile(FixturePath("pipeline/vae/config.json"));
  ASSERT_TRUE(json.ok()) << json.status();
  auto config = VaeConfig::FromJson(*json, "vae/config.json");
  ASSERT_TRUE(config.ok()) << config.status();
  VaeDecoder vae(*config);
  auto weights = LoadSafetensors(
      FixturePath("pipeline/vae/diffusion_pytorch_model.safetensors"));
  ASSERT_TRUE(weights.ok()) << weights.status();
  // The decoder uses its half of the autoencoder.
  TensorMap decoder;
  for (const auto& [key, t] : *weights) {
    if (key.rfind("decoder.", 0) == 0 ||
        key.rfind("post_quant_conv.", 0) == 0) {
      decoder[key] = t;
    }
  }
  absl::Status st = LoadStateDict(*vae, decoder, "", "vae");
  ASSERT_TRUE(st.ok()) << st;
  vae->eval();
  torch::NoGradGuard no_grad;
  TensorMap ref = testing::LoadReferenceTensors("vae_decode");
  Probes probes;
  torch::Tensor image = vae->forward(ref.at("latent"), &probes);
  for (const auto& [name, tensor] : ref) {
    if (name.rfind("probe.", 0) != 0) continue;
    ASSERT_TRUE(probes.count(name.substr(6))) << name;
    EXPECT_TRUE(IsClose(probes.at(name.substr(6)), tensor, 2e-5, 5e-5)) << name;
  }
  EXPECT_TRUE(IsClose(image, ref.at("image"), 2e-5, 5e-5));

  // Chunked video decoding gives the same frames as one batch, up to the
  // rounding of batch-size-dependent convolution kernels.
  torch::Tensor video_latents =
      ref.at("latent").unsqueeze(0).permute({0, 2, 1, 3, 4}) *
      config->scaling_factor;
  torch::Tensor whole = vae->DecodeVideo(video_latents, 16);
  torch::Tensor chunked = vae->DecodeVideo(video_latents, 1);
  EXPECT_TRUE(IsClose(chunked, whole, 1e-5, 1e-5));
  EXPECT_TRUE(
      IsClose(whole[0], (ref.at("image") / 2 + 0.5).clamp(0, 1), 2e-5, 5e-5));
}

}  // namespace
}  // namespace reelfarm::pipeline
