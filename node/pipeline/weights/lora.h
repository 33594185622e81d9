#ifndef REELFARM_NODE_PIPELINE_WEIGHTS_LORA_H_
#define REELFARM_NODE_PIPELINE_WEIGHTS_LORA_H_

// Merges LoRA files into loaded weights (diffusers names), so a render pays
// nothing for them: W += scale * (alpha / rank) * up @ down, as kohya's
// merge_to and diffusers' fuse_lora do. alpha is the file's per-module
// ".alpha" tensor, or the rank when the file has none (guoyww's MotionLoRA
// and domain adapter files, diffusers' and PEFT's files), which makes the
// update scale * up @ down, as AnimateDiff's load_diffusers_lora does.
//
// Key layouts understood (weights of the target maps use diffusers names):
//  - kohya / A1111: lora_unet_<path>.lora_down.weight, .lora_up.weight,
//    .alpha and lora_te_<path>... for the text encoder, where <path> is the
//    diffusers name with '.' written as '_' (sd-scripts' SD 1.x networks), or
//    the LDM name (lora_unet_input_blocks_4_1_..., middle_block_...,
//    output_blocks_...) that SGM-based trainers write;
//  - diffusers attention processors: [unet.]<path>.processor.to_q_lora.down.
//    weight / .up.weight (guoyww's MotionLoRA and v3 domain adapter files,
//    diffusers' old LoRA files), with to_out meaning to_out.0;
//  - diffusers LoRACompatible layers: [unet.|text_encoder.]<path>.lora.down.
//    weight / .lora.up.weight, and text_encoder.<path>.lora_linear_layer...;
//  - PEFT: [unet.|text_encoder.|base_model.model.]<path>.lora_A.weight /
//    .lora_B.weight.
// Linear targets take 2-D (or 1x1 4-D) down/up; convolutions take kohya's
// LoCon shapes: down (rank, in, kh, kw), up (out, rank, 1, 1).
//
// Nothing is merged unless every key of the file is understood and fits:
// errors name `source` and the offending key; unused keys are listed.

#include <string>

#include "absl/status/status.h"
#include "node/pipeline/weights/tensor_map.h"

namespace reelfarm::pipeline {

// Merges an image LoRA (a style/DreamBooth LoRA, or AnimateDiff v3's domain
// adapter) into the UNet's and the text encoder's weights. `text_encoder`
// may be null: then a text encoder key is an error.
absl::Status MergeLora(const TensorMap& lora, double scale, TensorMap* unet,
                       TensorMap* text_encoder, const std::string& source);

// Merges a MotionLoRA into the motion modules' weights under diffusers'
// MotionAdapter names (down_blocks.0.motion_modules.0.transformer_blocks.0.
// attn1.to_q.weight). The file may use guoyww's names (...motion_modules.N.
// temporal_transformer.transformer_blocks.0.attention_blocks.0.processor.
// to_q_lora.down.weight) or diffusers' converted ones (unet.<diffusers
// name>.processor.to_q_lora.down.weight, PEFT).
absl::Status MergeMotionLora(const TensorMap& lora, double scale,
                             TensorMap* motion_weights,
                             const std::string& source);

}  // namespace reelfarm::pipeline

#endif  // REELFARM_NODE_PIPELINE_WEIGHTS_LORA_H_
