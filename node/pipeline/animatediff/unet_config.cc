#include "node/pipeline/animatediff/unet_config.h"

#include "absl/strings/str_cat.h"
#include "node/pipeline/weights/json_config.h"

namespace reelfarm::pipeline {

absl::StatusOr<UNetConfig> UNetConfig::FromJson(const nlohmann::json& json,
                                                const std::string& source) {
  UNetConfig c;
  JsonConfigReader r(json, source);
  r.Int("in_channels", &c.in_channels);
  r.Int("out_channels", &c.out_channels);
  r.StringList("down_block_types", &c.down_block_types);
  r.StringList("up_block_types", &c.up_block_types);
  r.IntList("block_out_channels", &c.block_out_channels);
  r.Int("layers_per_block", &c.layers_per_block);
  r.Int("norm_num_groups", &c.norm_num_groups);
  r.Double("norm_eps", &c.norm_eps);
  r.Int("cross_attention_dim", &c.cross_attention_dim);
  r.IntList("attention_head_dim", &c.attention_heads);
  // Newer configs may name the heads properly.
  r.IntList("num_attention_heads", &c.attention_heads);
  r.Bool("flip_sin_to_cos", &c.flip_sin_to_cos);
  r.Double("freq_shift", &c.freq_shift);
  if (!r.status().ok()) return r.status();
  const size_t n = c.block_out_channels.size();
  if (n == 0 || c.down_block_types.size() != n ||
      c.up_block_types.size() != n) {
    return absl::InvalidArgumentError(absl::StrCat(
        source,
        ": block_out_channels, down_block_types and up_block_types "
        "must have the same, non-zero length"));
  }
  for (const std::string& t : c.down_block_types) {
    if (t != "CrossAttnDownBlock2D" && t != "DownBlock2D") {
      return absl::InvalidArgumentError(
          absl::StrCat(source, ": down block '", t, "' is not supported"));
    }
  }
  for (const std::string& t : c.up_block_types) {
    if (t != "CrossAttnUpBlock2D" && t != "UpBlock2D") {
      return absl::InvalidArgumentError(
          absl::StrCat(source, ": up block '", t, "' is not supported"));
    }
  }
  if (c.attention_heads.size() != 1 && c.attention_heads.size() != n) {
    return absl::InvalidArgumentError(absl::StrCat(
        source, ": attention_head_dim needs one value or one per block"));
  }
  for (int64_t ch : c.block_out_channels) {
    if (ch <= 0 || ch % c.norm_num_groups != 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          source, ": block_out_channels must be multiples of norm_num_groups"));
    }
  }
  return c;
}

int64_t UNetConfig::HeadsForDownBlock(size_t i) const {
  return attention_heads.size() == 1 ? attention_heads[0] : attention_heads[i];
}

absl::StatusOr<MotionConfig> MotionConfig::FromJson(const nlohmann::json& json,
                                                    const std::string& source) {
  MotionConfig c;
  JsonConfigReader r(json, source);
  r.Int("motion_num_attention_heads", &c.num_attention_heads);
  r.Int("motion_norm_num_groups", &c.norm_num_groups);
  r.Int("motion_max_seq_length", &c.max_seq_length);
  r.Bool("use_motion_mid_block", &c.use_mid_block);
  r.Int("motion_layers_per_block", &c.layers_per_block);
  r.Int("motion_mid_block_layers_per_block", &c.mid_block_layers);
  int64_t transformer_layers = 1;
  r.Int("motion_transformer_layers_per_block", &transformer_layers);
  if (!r.status().ok()) return r.status();
  if (transformer_layers != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        source,
        ": motion_transformer_layers_per_block other than 1 is not "
        "supported"));
  }
  return c;
}

}  // namespace reelfarm::pipeline
