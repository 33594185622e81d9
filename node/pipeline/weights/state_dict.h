#ifndef REELFARM_NODE_PIPELINE_WEIGHTS_STATE_DICT_H_
#define REELFARM_NODE_PIPELINE_WEIGHTS_STATE_DICT_H_

#include <torch/nn/module.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "node/pipeline/weights/tensor_map.h"

namespace reelfarm::pipeline {

// Copies `weights[prefix + name]` into every parameter of `module`. Module
// trees mirror the checkpoints' key names, so this is a name match. Every
// parameter must be present with its exact shape, and every weight under
// `prefix` must be used, except keys ending in one of `ignored_suffixes`
// (buffers a checkpoint may carry that are recomputed, e.g. position_ids).
// Errors name `source`, the key and both shapes.
absl::Status LoadStateDict(
    torch::nn::Module& module, const TensorMap& weights,
    absl::string_view prefix, const std::string& source,
    const std::vector<std::string>& ignored_suffixes = {});

}  // namespace reelfarm::pipeline

#endif  // REELFARM_NODE_PIPELINE_WEIGHTS_STATE_DICT_H_
