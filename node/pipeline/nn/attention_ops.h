#ifndef REELFARM_NODE_PIPELINE_NN_ATTENTION_OPS_H_
#define REELFARM_NODE_PIPELINE_NN_ATTENTION_OPS_H_

#include <torch/types.h>

namespace reelfarm::pipeline {

// softmax(q k^T * scale + mask) v over the last two dims of (..., L, D)
// tensors. libtorch >= 2 uses its fused SDPA kernel; 1.13 uses one batched
// matmul and softmax (never baddbmm with beta=0, which reads uninitialised
// memory there). `mask` is additive and may be undefined.
torch::Tensor Attention(const torch::Tensor& q, const torch::Tensor& k,
                        const torch::Tensor& v, double scale,
                        const torch::Tensor& mask = {});

}  // namespace reelfarm::pipeline

#endif  // REELFARM_NODE_PIPELINE_NN_ATTENTION_OPS_H_
