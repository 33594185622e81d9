#include "node/pipeline/animatediff/clip_text_model.h"

#include <torch/torch.h>

#include "absl/strings/str_cat.h"
#include "node/pipeline/nn/attention_ops.h"
#include "node/pipeline/weights/json_config.h"

namespace reelfarm::pipeline {

absl::StatusOr<ClipTextConfig> ClipTextConfig::FromJson(
    const nlohmann::json& json, const std::string& source) {
  ClipTextConfig c;
  JsonConfigReader r(json, source);
  r.Int("vocab_size", &c.vocab_size);
  r.Int("hidden_size", &c.hidden_size);
  r.Int("intermediate_size", &c.intermediate_size);
  r.Int("num_hidden_layers", &c.num_hidden_layers);
  r.Int("num_attention_heads", &c.num_attention_heads);
  r.Int("max_position_embeddings", &c.max_position_embeddings);
  r.Double("layer_norm_eps", &c.layer_norm_eps);
  r.String("hidden_act", &c.hidden_act);
  if (!r.status().ok()) return r.status();
  if (c.hidden_act != "quick_gelu" && c.hidden_act != "gelu") {
    return absl::InvalidArgumentError(absl::StrCat(
        source, ": hidden_act '", c.hidden_act, "' is not supported"));
  }
  if (c.num_attention_heads <= 0 || c.hidden_size % c.num_attention_heads) {
    return absl::InvalidArgumentError(absl::StrCat(
        source, ": hidden_size must be a multiple of num_attention_heads"));
  }
  return c;
}

namespace {

torch::nn::LayerNorm MakeLayerNorm(int64_t dim, double eps) {
  return torch::nn::LayerNorm(
      torch::nn::LayerNormOptions({dim}).eps(eps).elementwise_affine(true));
}

}  // namespace

ClipEncoderLayerImpl::ClipEncoderLayerImpl(const ClipTextConfig& c)
    : heads_(c.num_attention_heads), quick_gelu_(c.hidden_act == "quick_gelu") {
  const int64_t h = c.hidden_size;
  // transformers nests q/k/v/out under self_attn and fc1/fc2 under mlp.
  auto self_attn =
      register_module("self_attn", std::make_shared<torch::nn::Module>());
  q_proj_ = self_attn->register_module("q_proj", torch::nn::Linear(h, h));
  k_proj_ = self_attn->register_module("k_proj", torch::nn::Linear(h, h));
  v_proj_ = self_attn->register_module("v_proj", torch::nn::Linear(h, h));
  out_proj_ = self_attn->register_module("out_proj", torch::nn::Linear(h, h));
  layer_norm1_ =
      register_module("layer_norm1", MakeLayerNorm(h, c.layer_norm_eps));
  auto mlp = register_module("mlp", std::make_shared<torch::nn::Module>());
  fc1_ = mlp->register_module("fc1", torch::nn::Linear(h, c.intermediate_size));
  fc2_ = mlp->register_module("fc2", torch::nn::Linear(c.intermediate_size, h));
  layer_norm2_ =
      register_module("layer_norm2", MakeLayerNorm(h, c.layer_norm_eps));
}

torch::Tensor ClipEncoderLayerImpl::forward(const torch::Tensor& input,
                                            const torch::Tensor& mask) {
  const int64_t b = input.size(0), t = input.size(1), c = input.size(2);
  const int64_t d = c / heads_;
  const auto split = [&](const torch::Tensor& x) {
    return x.view({b, t, heads_, d}).transpose(1, 2);
  };
  torch::Tensor x = layer_norm1_(input);
  torch::Tensor attn =
      Attention(split(q_proj_(x)), split(k_proj_(x)), split(v_proj_(x)),
                1.0 / std::sqrt(static_cast<double>(d)), mask);
  x = input + out_proj_(attn.transpose(1, 2).reshape({b, t, c}));
  torch::Tensor y = fc1_(layer_norm2_(x));
  y = quick_gelu_ ? y * torch::sigmoid(1.702 * y) : torch::gelu(y);
  return x + fc2_(y);
}

ClipTextModelImpl::ClipTextModelImpl(const ClipTextConfig& config)
    : config_(config) {
  auto text_model =
      register_module("text_model", std::make_shared<torch::nn::Module>());
  auto embeddings = text_model->register_module(
      "embeddings", std::make_shared<torch::nn::Module>());
  token_embedding_ = embeddings->register_module(
      "token_embedding",
      torch::nn::Embedding(config.vocab_size, config.hidden_size));
  position_embedding_ = embeddings->register_module(
      "position_embedding",
      torch::nn::Embedding(config.max_position_embeddings, config.hidden_size));
  auto encoder = text_model->register_module(
      "encoder", std::make_shared<torch::nn::Module>());
  for (int64_t i = 0; i < config.num_hidden_layers; ++i) {
    layers_->push_back(ClipEncoderLayer(config));
  }
  encoder->register_module("layers", layers_);
  final_layer_norm_ = text_model->register_module(
      "final_layer_norm",
      MakeLayerNorm(config.hidden_size, config.layer_norm_eps));
}

torch::Tensor ClipTextModelImpl::forward(const torch::Tensor& input_ids) {
  return Forward(input_ids, nullptr);
}

torch::Tensor ClipTextModelImpl::Forward(
    const torch::Tensor& input_ids, std::vector<torch::Tensor>* hidden_states) {
  const int64_t t = input_ids.size(1);
  const torch::Tensor positions =
      torch::arange(t, torch::dtype(torch::kLong).device(input_ids.device()));
  torch::Tensor x =
      token_embedding_(input_ids) + position_embedding_(positions).unsqueeze(0);
  // Causal: a token sees itself and the tokens before it.
  const torch::Tensor mask =
      torch::full({t, t}, -std::numeric_limits<float>::infinity(),
                  torch::dtype(x.dtype()).device(x.device()))
          .triu(1);
  for (const auto& layer : *layers_) {
    if (hidden_states != nullptr) hidden_states->push_back(x);
    x = layer->as<ClipEncoderLayer>()->forward(x, mask);
  }
  if (hidden_states != nullptr) hidden_states->push_back(x);
  return final_layer_norm_(x);
}

}  // namespace reelfarm::pipeline
