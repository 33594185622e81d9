#ifndef REELFARM_NODE_PIPELINE_ANIMATEDIFF_ANIMATEDIFF_PIPELINE_H_
#define REELFARM_NODE_PIPELINE_ANIMATEDIFF_ANIMATEDIFF_PIPELINE_H_

#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "node/pipeline/comm/communicator.h"
#include "node/pipeline/video/context_windows.h"
#include "node/pipeline/animatediff/model_bundle.h"

namespace reelfarm::pipeline {

struct VideoRequest {
  std::string prompt;
  std::string negative_prompt;
  uint64_t seed = 0;
  int64_t width = 512;
  int64_t height = 512;
  int64_t frames = 16;
  int64_t steps = 25;
  double guidance_scale = 7.5;
  std::string scheduler = "ddim";
  // Replaces the model folder's scheduler_config.json when set (AnimateDiff's
  // inference config carries its own noise_scheduler_kwargs).
  std::optional<nlohmann::json> scheduler_config;
  int64_t decode_chunk_size = 16;  // frames decoded at once by the VAE
  // Videos longer than context.length are denoised window by window.
  ContextOptions context;
  // With a communicator of several ranks: every rank runs every window's
  // UNet call on its slice of the window's frames (frame-split mode, see
  // FrameSplit) instead of the ranks splitting the windows. False keeps the
  // window split.
  bool split_frames = false;
};

// Intermediate tensors, recorded when asked (parity tests, debugging).
struct PipelineTrace {
  torch::Tensor prompt_embeds, negative_prompt_embeds;
  torch::Tensor initial_noise, timesteps;
  std::vector<torch::Tensor> unet_out;  // per step, before guidance (fused)
  std::vector<torch::Tensor> latents;   // per step, after the scheduler
};

struct PipelineHooks {
  // Called after each step with (step + 1, steps).
  std::function<void(int64_t, int64_t)> progress;
  // Polled between steps; true stops the render with Cancelled.
  std::function<bool()> cancelled;
  PipelineTrace* trace = nullptr;
};

// diffusers' AnimateDiffPipeline: CLIP-encode the prompt and the negative
// prompt, draw the initial latents with one torch.randn on a CPU generator
// seeded with the job's seed (so a job renders the same on any device), run
// the scheduler with classifier-free guidance (batch [negative, positive]),
// and decode with the VAE. Returns (frames, 3, H, W) in [0, 1] on the CPU.
//
// Videos longer than request.context.length run the UNet per context window
// and fuse the windows' predictions (see WindowedDenoiser). With `comm`,
// every rank of a device group calls RenderVideo with the same request and
// its own models; the ranks split the windows, exchange their predictions
// after each step, and all return the same video. With
// request.split_frames, the ranks instead split each window's frames: each
// runs the UNet on its slice, the slices' predictions are all-gathered, and
// every rank fuses and steps the whole video (a window of fewer frames than
// ranks is computed whole on every rank).
absl::StatusOr<torch::Tensor> RenderVideo(ModelBundle& models,
                                          const VideoRequest& request,
                                          const PipelineHooks& hooks = {},
                                          comm::Communicator* comm = nullptr);

}  // namespace reelfarm::pipeline

#endif  // REELFARM_NODE_PIPELINE_ANIMATEDIFF_ANIMATEDIFF_PIPELINE_H_
