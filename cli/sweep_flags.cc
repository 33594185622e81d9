#include "cli/sweep_flags.h"

#include <cstdio>

#include "common/find_program.h"

namespace reelfarm::cli {

void SweepFlags::Register(FlagSet& flags) {
  flags.String("out", &options_.output_dir,
               "output folder (default: the config's 'output', else "
               "outputs/<name>)");
  flags.String("renderer", &options_.renderer,
               "animatediff or test-pattern (default: the config's)");
  flags.String("pretrained-model-path", &options_.pretrained_model_path,
               "Stable Diffusion 1.5 model (diffusers folder or single file)");
  flags.String("inference-config", &options_.inference_config,
               "AnimateDiff inference config (yaml)");
  flags.Uint("W", &options_.width, "width in pixels, a multiple of 8");
  flags.Uint("H", &options_.height, "height in pixels, a multiple of 8");
  flags.Uint("L", &options_.frames, "frames per video");
}

absl::StatusOr<v1::SweepSpec> SweepFlags::Load(const std::string& path) const {
  config::LoadOptions options = options_;
  options.mp4_available = FindFfmpeg().ok();
  absl::StatusOr<v1::SweepSpec> spec = config::LoadSweepFile(path, options);
  if (spec.ok()) {
    for (const std::string& w : spec->warnings()) {
      std::fprintf(stderr, "warning: %s\n", w.c_str());
    }
  }
  return spec;
}

}  // namespace reelfarm::cli
