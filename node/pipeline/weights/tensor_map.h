#ifndef REELFARM_NODE_PIPELINE_WEIGHTS_TENSOR_MAP_H_
#define REELFARM_NODE_PIPELINE_WEIGHTS_TENSOR_MAP_H_

#include <torch/types.h>

#include <map>
#include <string>

namespace reelfarm::pipeline {

// Named tensors as a checkpoint holds them: contiguous, on the CPU; weights
// are float32 whatever their stored precision.
// Ordered, so iteration and error messages are deterministic.
using TensorMap = std::map<std::string, torch::Tensor>;

}  // namespace reelfarm::pipeline

#endif  // REELFARM_NODE_PIPELINE_WEIGHTS_TENSOR_MAP_H_
