// Peak memory of long videos with context windows: renders the same
// request at several frame counts, each in its own child process (so each
// peak RSS is its own), with a random model of SD 1.5's structure at a
// quarter of its width. With 16-frame windows the UNet's activations are
// those of one window whatever the video's length; what grows with the
// frame count is the latents and the decoded frames.
//
//   build/bench/window_memory_bench [--frames 16,96] [--size 128]
//       [--steps 1] [--threads N]     (REELFARM_FIXTURES as tests)

#include <sys/resource.h>
#include <sys/wait.h>
#include <torch/torch.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "bench/random_model.h"
#include "node/pipeline/animatediff/animatediff_pipeline.h"

namespace reelfarm::pipeline {
namespace {

struct Options {
  std::vector<int64_t> frames = {16, 96};
  int64_t size = 128;
  int64_t steps = 1;
  int threads = 0;
};

double PeakRssMiB() {
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0;
}

std::string Fixtures() {
  const char* env = std::getenv("REELFARM_FIXTURES");
  return env != nullptr && *env != '\0' ? env : REELFARM_DEFAULT_FIXTURES;
}

// One render in this (child) process; prints one line.
int RenderOnce(const Options& o, int64_t frames) {
  if (o.threads > 0) torch::set_num_threads(o.threads);
  ModelSources sources;
  sources.base = Fixtures() + "/pipeline";
  sources.motion_module = Fixtures() + "/motion_adapter";
  auto fixture = LoadModelBundle(sources);
  if (!fixture.ok()) {
    std::fprintf(stderr, "%s\n",
                 std::string(fixture.status().message()).c_str());
    return 1;
  }
  ModelBundle m = RandomMidSizeModel(**fixture, /*text_layers=*/2);
  const double after_load = PeakRssMiB();
  VideoRequest r;
  r.prompt = "a lighthouse in a storm";
  r.seed = 7;
  r.width = r.height = o.size;
  r.frames = frames;
  r.steps = o.steps;
  const absl::Time t0 = absl::Now();
  auto video = RenderVideo(m, r);
  if (!video.ok()) {
    std::fprintf(stderr, "%s\n", std::string(video.status().message()).c_str());
    return 1;
  }
  auto windows = ContextWindows(frames, r.context);
  std::printf(
      "%3lld frames %lldx%lld, %2zu windows of %lld: render %6.1f s, peak RSS "
      "%7.1f MiB (%.1f MiB after loading)\n",
      static_cast<long long>(frames), static_cast<long long>(o.size),
      static_cast<long long>(o.size), windows->size(),
      static_cast<long long>(r.context.length),
      absl::ToDoubleSeconds(absl::Now() - t0), PeakRssMiB(), after_load);
  std::fflush(stdout);
  return 0;
}

bool ParseArgs(int argc, char** argv, Options* o) {
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    bool ok = true;
    if (flag == "--frames") {
      o->frames.clear();
      for (absl::string_view part : absl::StrSplit(value, ',')) {
        int64_t f = 0;
        ok = ok && absl::SimpleAtoi(part, &f) && f > 0;
        o->frames.push_back(f);
      }
    } else if (flag == "--size") {
      ok = absl::SimpleAtoi(value, &o->size);
    } else if (flag == "--steps") {
      ok = absl::SimpleAtoi(value, &o->steps);
    } else if (flag == "--threads") {
      ok = absl::SimpleAtoi(value, &o->threads);
    } else {
      ok = false;
    }
    if (!ok) {
      std::fprintf(stderr, "bad flag %s %s\n", flag.c_str(), value.c_str());
      return false;
    }
  }
  return true;
}

}  // namespace
}  // namespace reelfarm::pipeline

int main(int argc, char** argv) {
  reelfarm::pipeline::Options options;
  if (!reelfarm::pipeline::ParseArgs(argc, argv, &options)) return 2;
  // Fork before torch starts its thread pools; one child per frame count.
  for (int64_t frames : options.frames) {
    const pid_t pid = fork();
    if (pid < 0) return 1;
    if (pid == 0) _exit(reelfarm::pipeline::RenderOnce(options, frames));
    int status = 0;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0) {
      std::fprintf(stderr, "render of %lld frames failed\n",
                   static_cast<long long>(frames));
      return 1;
    }
  }
  return 0;
}
