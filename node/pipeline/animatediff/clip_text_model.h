#ifndef REELFARM_NODE_PIPELINE_ANIMATEDIFF_CLIP_TEXT_MODEL_H_
#define REELFARM_NODE_PIPELINE_ANIMATEDIFF_CLIP_TEXT_MODEL_H_

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace reelfarm::pipeline {

// transformers' CLIPTextConfig, the fields the text model uses.
struct ClipTextConfig {
  int64_t vocab_size = 49408;
  int64_t hidden_size = 768;
  int64_t intermediate_size = 3072;
  int64_t num_hidden_layers = 12;
  int64_t num_attention_heads = 12;
  int64_t max_position_embeddings = 77;
  double layer_norm_eps = 1e-5;
  std::string hidden_act = "quick_gelu";

  // From a text_encoder/config.json; `source` names it in errors.
  static absl::StatusOr<ClipTextConfig> FromJson(const nlohmann::json& json,
                                                 const std::string& source);
};

// One pre-LayerNorm transformer layer
// (text_model.encoder.layers.N.{self_attn,layer_norm1,mlp,layer_norm2}).
class ClipEncoderLayerImpl : public torch::nn::Module {
 public:
  explicit ClipEncoderLayerImpl(const ClipTextConfig& config);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mask);

 private:
  int64_t heads_;
  bool quick_gelu_;
  torch::nn::Linear q_proj_{nullptr}, k_proj_{nullptr}, v_proj_{nullptr},
      out_proj_{nullptr}, fc1_{nullptr}, fc2_{nullptr};
  torch::nn::LayerNorm layer_norm1_{nullptr}, layer_norm2_{nullptr};
};
TORCH_MODULE(ClipEncoderLayer);

// CLIPTextModel: token ids (B, 77) -> last_hidden_state (B, 77, hidden),
// after the final LayerNorm, with the causal mask and no padding mask, as
// Stable Diffusion pipelines call it. Parameter names match the checkpoint
// keys under "text_model.".
class ClipTextModelImpl : public torch::nn::Module {
 public:
  explicit ClipTextModelImpl(const ClipTextConfig& config);

  torch::Tensor forward(const torch::Tensor& input_ids);
  // Also returns the input of every layer and the last layer's output
  // before the final LayerNorm (transformers' hidden_states), for tests
  // and for clip skip.
  torch::Tensor Forward(const torch::Tensor& input_ids,
                        std::vector<torch::Tensor>* hidden_states);

  const ClipTextConfig& config() const { return config_; }

 private:
  ClipTextConfig config_;
  torch::nn::Embedding token_embedding_{nullptr}, position_embedding_{nullptr};
  torch::nn::ModuleList layers_;
  torch::nn::LayerNorm final_layer_norm_{nullptr};
};
TORCH_MODULE(ClipTextModel);

}  // namespace reelfarm::pipeline

#endif  // REELFARM_NODE_PIPELINE_ANIMATEDIFF_CLIP_TEXT_MODEL_H_
