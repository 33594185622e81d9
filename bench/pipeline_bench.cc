// Wall time and peak memory of the AnimateDiff pipeline on the CPU: the
// fixture's tiny model on its reference case, then a mid-size random model
// (SD 1.5's structure at a quarter of its width) on a 16-frame clip.
//
//   build/bench/pipeline_bench [--threads N]   (REELFARM_FIXTURES as tests)

#include <sys/resource.h>
#include <torch/torch.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "absl/time/clock.h"
#include "bench/random_model.h"
#include "node/pipeline/animatediff/animatediff_pipeline.h"
#include "node/pipeline/weights/json_config.h"

namespace reelfarm::pipeline {
namespace {

double PeakRssMiB() {
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0;
}

std::string Fixtures() {
  const char* env = std::getenv("REELFARM_FIXTURES");
  return env != nullptr && *env != '\0' ? env : REELFARM_DEFAULT_FIXTURES;
}

void Report(const char* name, const VideoRequest& r, absl::Duration load,
            absl::Duration render) {
  std::printf(
      "%-10s %3lldx%-3lld %2lld frames %2lld steps: load %6.2f s, render "
      "%7.2f s (%.3f s/step), peak RSS %7.1f MiB\n",
      name, static_cast<long long>(r.width), static_cast<long long>(r.height),
      static_cast<long long>(r.frames), static_cast<long long>(r.steps),
      absl::ToDoubleSeconds(load), absl::ToDoubleSeconds(render),
      absl::ToDoubleSeconds(render) / r.steps, PeakRssMiB());
  std::fflush(stdout);
}

int Run() {
  // The fixture model and its reference request.
  ModelSources sources;
  sources.base = Fixtures() + "/pipeline";
  sources.motion_module = Fixtures() + "/motion_adapter";
  absl::Time t0 = absl::Now();
  auto tiny = LoadModelBundle(sources);
  if (!tiny.ok()) {
    std::fprintf(stderr, "%s\n", std::string(tiny.status().message()).c_str());
    return 1;
  }
  absl::Time t1 = absl::Now();
  VideoRequest request;
  request.prompt = "a corgi running on the beach at sunset, highly detailed";
  request.seed = 42;
  request.width = request.height = 64;
  request.frames = 8;
  request.steps = 5;
  if (!RenderVideo(**tiny, request).ok()) return 1;
  Report("fixture", request, t1 - t0, absl::Now() - t1);

  // Mid-size: random weights, the fixture's tokenizer and scheduler.
  t0 = absl::Now();
  ModelBundle mid = RandomMidSizeModel(**tiny, /*text_layers=*/6);
  t1 = absl::Now();
  request.width = request.height = 256;
  request.frames = 16;
  request.steps = 4;
  if (!RenderVideo(mid, request).ok()) return 1;
  Report("mid-size", request, t1 - t0, absl::Now() - t1);
  return 0;
}

}  // namespace
}  // namespace reelfarm::pipeline

int main(int argc, char** argv) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (!std::strcmp(argv[i], "--threads")) {
      torch::set_num_threads(std::atoi(argv[i + 1]));
    }
  }
  std::printf("libtorch threads: %d\n", torch::get_num_threads());
  return reelfarm::pipeline::Run();
}
