#ifndef REELFARM_NODE_PIPELINE_ANIMATEDIFF_UNET_CONFIG_H_
#define REELFARM_NODE_PIPELINE_ANIMATEDIFF_UNET_CONFIG_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace reelfarm::pipeline {

// diffusers' UNet2DConditionModel config, the SD 1.x subset.
struct UNetConfig {
  int64_t in_channels = 4;
  int64_t out_channels = 4;
  std::vector<std::string> down_block_types = {
      "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D",
      "DownBlock2D"};
  std::vector<std::string> up_block_types = {"UpBlock2D", "CrossAttnUpBlock2D",
                                             "CrossAttnUpBlock2D",
                                             "CrossAttnUpBlock2D"};
  std::vector<int64_t> block_out_channels = {320, 640, 1280, 1280};
  int64_t layers_per_block = 2;
  int64_t norm_num_groups = 32;
  double norm_eps = 1e-5;
  int64_t cross_attention_dim = 768;
  // SD 1.x names the number of heads attention_head_dim; one value per
  // down block (a single value applies to all).
  std::vector<int64_t> attention_heads = {8};
  bool flip_sin_to_cos = true;
  double freq_shift = 0;

  static absl::StatusOr<UNetConfig> FromJson(const nlohmann::json& json,
                                             const std::string& source);
  int64_t HeadsForDownBlock(size_t i) const;
};

// The motion modules' shape: diffusers' MotionAdapter config, or detected
// from an original AnimateDiff checkpoint.
struct MotionConfig {
  int64_t num_attention_heads = 8;
  int64_t norm_num_groups = 32;
  int64_t max_seq_length = 32;  // v1: 24
  bool use_mid_block = true;    // v2 has one; v1 and v3 do not
  int64_t layers_per_block = 2;
  int64_t mid_block_layers = 1;

  static absl::StatusOr<MotionConfig> FromJson(const nlohmann::json& json,
                                               const std::string& source);
};

}  // namespace reelfarm::pipeline

#endif  // REELFARM_NODE_PIPELINE_ANIMATEDIFF_UNET_CONFIG_H_
