#include "node/pipeline/nn/attention_ops.h"

#include <torch/torch.h>
#include <torch/version.h>

namespace reelfarm::pipeline {

torch::Tensor Attention(const torch::Tensor& q, const torch::Tensor& k,
                        const torch::Tensor& v, double scale,
                        const torch::Tensor& mask) {
#if TORCH_VERSION_MAJOR > 2 || \
    (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 1)
  return at::scaled_dot_product_attention(q, k, v, mask, 0.0,
                                          /*is_causal=*/false, scale);
#else
  torch::Tensor scores = torch::matmul(q, k.transpose(-1, -2)) * scale;
  if (mask.defined()) scores = scores + mask;
  return torch::matmul(torch::softmax(scores, -1), v);
#endif
}

}  // namespace reelfarm::pipeline
