#include "node/pipeline/animatediff/unet_blocks.h"

#include <torch/torch.h>

#include <cmath>

#include "node/pipeline/nn/attention_ops.h"

namespace reelfarm::pipeline {

namespace F = torch::nn::functional;

torch::nn::GroupNorm MakeGroupNorm(int64_t groups, int64_t channels,
                                   double eps) {
  return torch::nn::GroupNorm(
      torch::nn::GroupNormOptions(groups, channels).eps(eps).affine(true));
}

torch::nn::Conv2d MakeConv(int64_t in, int64_t out, int64_t kernel,
                           int64_t stride) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, kernel)
                               .stride(stride)
                               .padding(kernel / 2));
}

namespace {

torch::nn::LayerNorm MakeLayerNorm(int64_t dim) {
  return torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(1e-5));
}

// A parameterless slot, so numbered children keep diffusers' indices
// (to_out.1 and ff.net.1 are dropouts there).
struct EmptySlotImpl : torch::nn::Module {
  torch::Tensor forward(const torch::Tensor& x) { return x; }
};
TORCH_MODULE(EmptySlot);

}  // namespace

CrossAttentionImpl::CrossAttentionImpl(int64_t dim, int64_t context_dim,
                                       int64_t heads)
    : heads_(heads) {
  const int64_t ctx = context_dim > 0 ? context_dim : dim;
  using torch::nn::LinearOptions;
  to_q_ = register_module(
      "to_q", torch::nn::Linear(LinearOptions(dim, dim).bias(false)));
  to_k_ = register_module(
      "to_k", torch::nn::Linear(LinearOptions(ctx, dim).bias(false)));
  to_v_ = register_module(
      "to_v", torch::nn::Linear(LinearOptions(ctx, dim).bias(false)));
  torch::nn::ModuleList to_out;
  to_out_ = torch::nn::Linear(dim, dim);
  to_out->push_back(to_out_);
  to_out->push_back(EmptySlot());
  register_module("to_out", to_out);
}

torch::Tensor CrossAttentionImpl::forward(const torch::Tensor& x,
                                          const torch::Tensor& context) {
  const torch::Tensor& ctx = context.defined() ? context : x;
  const int64_t n = x.size(0), l = x.size(1), s = ctx.size(1);
  const int64_t dim = x.size(2), d = dim / heads_;
  const auto heads = [&](const torch::Tensor& t, int64_t len) {
    return t.view({n, len, heads_, d}).transpose(1, 2);
  };
  torch::Tensor out =
      Attention(heads(to_q_(x), l), heads(to_k_(ctx), s), heads(to_v_(ctx), s),
                1.0 / std::sqrt(static_cast<double>(d)));
  return to_out_(out.transpose(1, 2).reshape({n, l, dim}));
}

GegluFeedForwardImpl::GegluFeedForwardImpl(int64_t dim) {
  const int64_t inner = 4 * dim;
  torch::nn::ModuleList net;
  auto geglu = std::make_shared<torch::nn::Module>();
  proj_ = geglu->register_module("proj", torch::nn::Linear(dim, 2 * inner));
  net->push_back(geglu);
  net->push_back(EmptySlot());
  out_ = torch::nn::Linear(inner, dim);
  net->push_back(out_);
  register_module("net", net);
}

torch::Tensor GegluFeedForwardImpl::forward(const torch::Tensor& x) {
  std::vector<torch::Tensor> parts = proj_(x).chunk(2, -1);
  return out_(parts[0] * torch::gelu(parts[1]));
}

TransformerBlockImpl::TransformerBlockImpl(int64_t dim, int64_t heads,
                                           int64_t context_dim,
                                           const torch::Tensor& positional)
    : positional_(positional) {
  norm1_ = register_module("norm1", MakeLayerNorm(dim));
  attn1_ = register_module("attn1", CrossAttention(dim, 0, heads));
  norm2_ = register_module("norm2", MakeLayerNorm(dim));
  attn2_ = register_module("attn2", CrossAttention(dim, context_dim, heads));
  norm3_ = register_module("norm3", MakeLayerNorm(dim));
  ff_ = register_module("ff", GegluFeedForward(dim));
}

torch::Tensor TransformerBlockImpl::WithPosition(const torch::Tensor& x,
                                                 int64_t offset) const {
  if (!positional_.defined()) return x;
  return x + positional_.slice(1, offset, offset + x.size(1))
                 .to(x.device(), x.dtype());
}

torch::Tensor TransformerBlockImpl::forward(const torch::Tensor& input,
                                            const torch::Tensor& context) {
  torch::Tensor x = attn1_(WithPosition(norm1_(input))) + input;
  x = attn2_(WithPosition(norm2_(x)), context) + x;
  return ff_(norm3_(x)) + x;
}

torch::Tensor TransformerBlockImpl::forward(const torch::Tensor& input,
                                            const FrameSplit& split) {
  torch::Tensor h = WithPosition(norm1_(input), split.frame_offset);
  torch::Tensor x = attn1_(h, ValueOrThrow(GatherFrames(h, 1, split))) + input;
  h = WithPosition(norm2_(x), split.frame_offset);
  x = attn2_(h, ValueOrThrow(GatherFrames(h, 1, split))) + x;
  return ff_(norm3_(x)) + x;
}

SpatialTransformerImpl::SpatialTransformerImpl(int64_t channels, int64_t heads,
                                               int64_t context_dim,
                                               int64_t groups) {
  norm_ = register_module("norm", MakeGroupNorm(groups, channels, 1e-6));
  proj_in_ = register_module("proj_in", MakeConv(channels, channels, 1));
  transformer_blocks_->push_back(
      TransformerBlock(channels, heads, context_dim));
  register_module("transformer_blocks", transformer_blocks_);
  proj_out_ = register_module("proj_out", MakeConv(channels, channels, 1));
}

torch::Tensor SpatialTransformerImpl::forward(const torch::Tensor& input,
                                              const torch::Tensor& context) {
  const int64_t n = input.size(0), c = input.size(1), h = input.size(2),
                w = input.size(3);
  torch::Tensor x = proj_in_(norm_(input));
  x = x.permute({0, 2, 3, 1}).reshape({n, h * w, c});
  for (const auto& block : *transformer_blocks_) {
    x = block->as<TransformerBlock>()->forward(x, context);
  }
  x = x.reshape({n, h, w, c}).permute({0, 3, 1, 2}).contiguous();
  return proj_out_(x) + input;
}

ResnetBlockImpl::ResnetBlockImpl(int64_t in, int64_t out, int64_t temb_channels,
                                 int64_t groups, double eps) {
  norm1_ = register_module("norm1", MakeGroupNorm(groups, in, eps));
  conv1_ = register_module("conv1", MakeConv(in, out, 3));
  if (temb_channels > 0) {
    time_emb_proj_ =
        register_module("time_emb_proj", torch::nn::Linear(temb_channels, out));
  }
  norm2_ = register_module("norm2", MakeGroupNorm(groups, out, eps));
  conv2_ = register_module("conv2", MakeConv(out, out, 3));
  if (in != out) {
    conv_shortcut_ = register_module("conv_shortcut", MakeConv(in, out, 1));
  }
}

torch::Tensor ResnetBlockImpl::forward(const torch::Tensor& x,
                                       const torch::Tensor& temb) {
  torch::Tensor h = conv1_(torch::silu(norm1_(x)));
  if (time_emb_proj_ && temb.defined()) {
    h = h + time_emb_proj_(torch::silu(temb)).unsqueeze(-1).unsqueeze(-1);
  }
  h = conv2_(torch::silu(norm2_(h)));
  return (conv_shortcut_ ? conv_shortcut_(x) : x) + h;
}

DownsampleImpl::DownsampleImpl(int64_t channels) {
  conv_ = register_module("conv", MakeConv(channels, channels, 3, 2));
}

torch::Tensor DownsampleImpl::forward(const torch::Tensor& x) {
  return conv_(x);
}

UpsampleImpl::UpsampleImpl(int64_t channels) {
  conv_ = register_module("conv", MakeConv(channels, channels, 3));
}

torch::Tensor UpsampleImpl::forward(const torch::Tensor& x,
                                    c10::optional<std::vector<int64_t>> size) {
  auto options = F::InterpolateFuncOptions().mode(torch::kNearest);
  if (size.has_value()) {
    options.size(*size);
  } else {
    options.scale_factor(std::vector<double>{2.0, 2.0});
  }
  return conv_(F::interpolate(x, options));
}

}  // namespace reelfarm::pipeline
