// One video on several ranks against one rank, on this machine's CPU: how
// much the split costs or saves, in each mode and over each backend. Every
// configuration runs in its own child process (torch's thread pools start
// fresh) and renders the same request with a random model of SD 1.5's
// structure at a quarter of its width; times are reported against the
// one-rank baseline run by the same invocation, with the largest difference
// of the frames from it.
//
//   build/bench/device_split_bench [--ranks 2] [--frames 32] [--size 64]
//       [--steps 1]     (REELFARM_FIXTURES as tests)
//
// The baseline gets all of the machine's cores; each of N ranks gets 1/N
// of them, so on a CPU the ratio measures what the split adds, not a
// speed-up (that needs a device per rank).

#include <sys/wait.h>
#include <torch/torch.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/time/clock.h"
#include "bench/random_model.h"
#include "node/pipeline/animatediff/animatediff_pipeline.h"
#include "node/pipeline/comm/in_process_communicator.h"
#include "node/pipeline/comm/socket_communicator.h"

namespace reelfarm::pipeline {
namespace {

struct Options {
  int ranks = 2;
  int64_t frames = 32;
  int64_t size = 64;
  int64_t steps = 1;
};

enum class Mode { kOneRank, kWindows, kFrames, kWindowsOverTcp };

const char* Name(Mode m) {
  switch (m) {
    case Mode::kOneRank:
      return "1 rank (baseline)";
    case Mode::kWindows:
      return "windows, in-process";
    case Mode::kFrames:
      return "frames, in-process";
    case Mode::kWindowsOverTcp:
      return "windows, TCP";
  }
  return "";
}

std::string Fixtures() {
  const char* env = std::getenv("REELFARM_FIXTURES");
  return env != nullptr && *env != '\0' ? env : REELFARM_DEFAULT_FIXTURES;
}

// Renders in this (child) process; writes the seconds and rank 0's frames
// to `out`.
int RenderOnce(const Options& o, Mode mode, const std::string& out) {
  const int ranks = mode == Mode::kOneRank ? 1 : o.ranks;
  const int cores = static_cast<int>(std::thread::hardware_concurrency());
  torch::set_num_threads(std::max(1, cores / ranks));
  ModelSources sources;
  sources.base = Fixtures() + "/pipeline";
  sources.motion_module = Fixtures() + "/motion_adapter";
  std::vector<ModelBundle> models;
  for (int r = 0; r < ranks; ++r) {
    auto fixture = LoadModelBundle(sources);
    if (!fixture.ok()) {
      std::fprintf(stderr, "%s\n",
                   std::string(fixture.status().message()).c_str());
      return 1;
    }
    // Seeded alike: every rank has the same weights.
    models.push_back(RandomMidSizeModel(**fixture, /*text_layers=*/2));
  }
  VideoRequest r;
  r.prompt = "a lighthouse in a storm";
  r.seed = 7;
  r.width = r.height = o.size;
  r.frames = o.frames;
  r.steps = o.steps;
  r.split_frames = mode == Mode::kFrames;

  std::vector<std::unique_ptr<comm::Communicator>> comms;
  if (mode == Mode::kWindowsOverTcp) {
    comm::InProcessRendezvous rendezvous;
    comms.resize(ranks);
    std::vector<std::thread> threads;
    for (int k = 0; k < ranks; ++k) {
      threads.emplace_back([&, k] {
        auto c = comm::SocketCommunicator::Create(k, ranks, rendezvous);
        if (c.ok()) comms[k] = *std::move(c);
      });
    }
    for (std::thread& t : threads) t.join();
    for (const auto& c : comms) {
      if (c == nullptr) return 1;
    }
  } else if (ranks > 1) {
    comms = comm::MakeInProcessGroup(ranks);
  }
  std::vector<absl::StatusOr<torch::Tensor>> frames(ranks);
  const absl::Time t0 = absl::Now();
  std::vector<std::thread> threads;
  for (int k = 0; k < ranks; ++k) {
    threads.emplace_back([&, k] {
      frames[k] = RenderVideo(models[k], r, {},
                              comms.empty() ? nullptr : comms[k].get());
    });
  }
  for (std::thread& t : threads) t.join();
  const double seconds = absl::ToDoubleSeconds(absl::Now() - t0);
  if (!frames[0].ok()) {
    std::fprintf(stderr, "%s\n",
                 std::string(frames[0].status().message()).c_str());
    return 1;
  }
  torch::Tensor f = frames[0]->contiguous();
  std::ofstream file(out, std::ios::binary);
  file.write(reinterpret_cast<const char*>(&seconds), sizeof(seconds));
  file.write(static_cast<const char*>(f.data_ptr()),
             f.numel() * f.element_size());
  return file.good() ? 0 : 1;
}

bool ParseArgs(int argc, char** argv, Options* o) {
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    bool ok = true;
    if (flag == "--ranks") {
      ok = absl::SimpleAtoi(value, &o->ranks) && o->ranks > 1;
    } else if (flag == "--frames") {
      ok = absl::SimpleAtoi(value, &o->frames) && o->frames > 0;
    } else if (flag == "--size") {
      ok = absl::SimpleAtoi(value, &o->size);
    } else if (flag == "--steps") {
      ok = absl::SimpleAtoi(value, &o->steps);
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

// Seconds and frames a child wrote.
bool ReadResult(const std::string& path, double* seconds,
                std::vector<float>* frames) {
  std::ifstream in(path, std::ios::binary);
  if (!in.read(reinterpret_cast<char*>(seconds), sizeof(*seconds))) {
    return false;
  }
  frames->clear();
  float v = 0;
  while (in.read(reinterpret_cast<char*>(&v), sizeof(v))) frames->push_back(v);
  return !frames->empty();
}

}  // namespace
}  // namespace reelfarm::pipeline

int main(int argc, char** argv) {
  using namespace reelfarm::pipeline;  // NOLINT: one file, one namespace
  Options options;
  if (!ParseArgs(argc, argv, &options)) return 2;
  std::printf("%lld frames %lldx%lld, %lld step(s), %d ranks, %u cores\n",
              static_cast<long long>(options.frames),
              static_cast<long long>(options.size),
              static_cast<long long>(options.size),
              static_cast<long long>(options.steps), options.ranks,
              std::thread::hardware_concurrency());
  double baseline = 0;
  std::vector<float> baseline_frames;
  for (Mode mode :
       {Mode::kOneRank, Mode::kWindows, Mode::kFrames, Mode::kWindowsOverTcp}) {
    const std::string out =
        "/tmp/device_split_bench." + std::to_string(::getpid());
    // Fork before torch starts its thread pools.
    const pid_t pid = fork();
    if (pid < 0) return 1;
    if (pid == 0) _exit(RenderOnce(options, mode, out));
    int status = 0;
    double seconds = 0;
    std::vector<float> frames;
    const bool ok = waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
                    WEXITSTATUS(status) == 0 &&
                    ReadResult(out, &seconds, &frames);
    std::remove(out.c_str());
    if (!ok) {
      std::fprintf(stderr, "%s failed\n", Name(mode));
      return 1;
    }
    if (mode == Mode::kOneRank) {
      baseline = seconds;
      baseline_frames = frames;
    }
    double worst = 0;
    for (size_t i = 0; i < frames.size() && i < baseline_frames.size(); ++i) {
      worst = std::max<double>(worst, std::abs(frames[i] - baseline_frames[i]));
    }
    std::printf("%-22s %7.2f s  x%.2f of baseline  max |frame diff| %.2g\n",
                Name(mode), seconds, seconds / baseline, worst);
    std::fflush(stdout);
  }
  return 0;
}
