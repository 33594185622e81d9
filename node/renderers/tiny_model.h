#ifndef REELFARM_NODE_RENDERERS_TINY_MODEL_H_
#define REELFARM_NODE_RENDERERS_TINY_MODEL_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"

namespace reelfarm {

// Writes a small random AnimateDiff model in diffusers' layout: a pipeline
// folder (model_index.json, tokenizer/, text_encoder/, unet/, vae/ decoder
// only, scheduler/) with a MotionAdapter in motion_adapter/. It has SD 1.5's
// structure at a tiny width, so demos and tests render real videos (of
// noise) in a fraction of a second, with no download. The same seed writes
// the same weights.
absl::Status WriteTinyModel(const std::string& dir, uint64_t seed);

}  // namespace reelfarm

#endif  // REELFARM_NODE_RENDERERS_TINY_MODEL_H_
