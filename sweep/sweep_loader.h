#ifndef REELFARM_SWEEP_SWEEP_LOADER_H_
#define REELFARM_SWEEP_SWEEP_LOADER_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "reelfarm/v1/sweep.pb.h"

namespace reelfarm::config {

struct LoadOptions {
  // animate.py's flags; they fill what the config does not set.
  // --pretrained-model-path. Empty: AnimateDiff configs rendered with the
  // animatediff renderer fall back to AnimateDiff's
  // "models/StableDiffusion/stable-diffusion-v1-5"; reelfarm's form requires
  // model.pretrained_model_path then.
  std::string pretrained_model_path;
  // --inference-config. Empty: AnimateDiff configs (animatediff renderer)
  // fall back to "configs/inference/inference-v1.yaml", as animate.py did.
  std::string inference_config;
  // --W --H --L; 0 = not given (AnimateDiff defaults 512, 512, 16).
  uint32_t width = 0, height = 0, frames = 0;
  std::string output_dir;  // --out; overrides the config's output
  std::string renderer;    // overrides the config's renderer when non-empty
  // For seed -1; default: a random uint64 from std::random_device.
  std::function<uint64_t()> draw_seed;
  bool check_model_paths = true;  // stat + DigestModelPath every model file
  // Whether this machine has the ffmpeg program (FindFfmpeg): the default
  // formats include mp4 only then, and an explicit mp4 without it warns.
  bool mp4_available = false;
};

// Reads a sweep config in any of the three forms FORMAT.md describes
// (AnimateDiff's list layout, its v1/v2 map layout, reelfarm's own form) and
// returns the validated spec. Errors are InvalidArgument, or NotFound for an
// unreadable config or model file; their message starts with
// "file:line:column: " and names the offending field. Nothing is returned
// for an invalid config, so nothing renders.
absl::StatusOr<v1::SweepSpec> LoadSweepFile(const std::string& path,
                                            const LoadOptions& options);

// The same for text already in memory; `file_name` is used in messages and,
// for reelfarm's form, to resolve relative model paths (against its folder).
absl::StatusOr<v1::SweepSpec> ParseSweepText(std::string_view yaml,
                                             const std::string& file_name,
                                             const LoadOptions& options);

}  // namespace reelfarm::config

#endif  // REELFARM_SWEEP_SWEEP_LOADER_H_
