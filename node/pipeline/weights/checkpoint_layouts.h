#ifndef REELFARM_NODE_PIPELINE_WEIGHTS_CHECKPOINT_LAYOUTS_H_
#define REELFARM_NODE_PIPELINE_WEIGHTS_CHECKPOINT_LAYOUTS_H_

// Renames the tensors of the original (CompVis/LDM and guoyww/AnimateDiff)
// checkpoint layouts to diffusers' names, which the model trees use. The
// mapping is by block pattern, not a table per layer.

#include <string>

#include "absl/status/statusor.h"
#include "node/pipeline/weights/tensor_map.h"

namespace reelfarm::pipeline {

// The three models of a single-file SD 1.x checkpoint, under diffusers'
// names: "unet" (UNet2DConditionModel), "vae" (post_quant_conv + decoder;
// the encoder is dropped) and "text_encoder" (CLIPTextModel).
struct SplitCheckpoint {
  TensorMap unet;
  TensorMap vae;
  TensorMap text_encoder;
};

// True when the tensors use the LDM layout (model.diffusion_model.*, ...).
bool IsLdmCheckpoint(const TensorMap& tensors);

// Converts an LDM single file. `layers_per_block` is the UNet's (2 for
// SD 1.x). Errors name `source` and the first tensor that fits no pattern.
absl::StatusOr<SplitCheckpoint> ConvertLdmCheckpoint(const TensorMap& tensors,
                                                     int layers_per_block,
                                                     const std::string& source);

// True when the tensors use guoyww's motion module layout
// (*.motion_modules.N.temporal_transformer.*).
bool IsOriginalMotionModule(const TensorMap& tensors);

// Converts guoyww's layout to diffusers' MotionAdapter layout. The stored
// positional encodings are dropped (they are recomputed); their length, if
// present, is returned in `max_seq_length` (0 when absent).
absl::StatusOr<TensorMap> ConvertOriginalMotionModule(const TensorMap& tensors,
                                                      const std::string& source,
                                                      int64_t* max_seq_length);

}  // namespace reelfarm::pipeline

#endif  // REELFARM_NODE_PIPELINE_WEIGHTS_CHECKPOINT_LAYOUTS_H_
