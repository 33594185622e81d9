// Time and peak memory to expand a large sweep: parse the YAML, compute every
// job's id, and load the jobs into the queue as a submit does.
//
//   build/bench/expand_bench [JOBS]     (default 1000000; a multiple of 10000)

#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "absl/time/clock.h"
#include "coordinator/lease_queue/lease_queue.h"
#include "sweep/sweep_expander.h"
#include "sweep/sweep_loader.h"

namespace {

double PeakRssMiB() {
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0;
}

}  // namespace

int main(int argc, char** argv) {
  const uint64_t jobs =
      argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1000000;
  const uint64_t prompts = 100, guidance = 10;
  const uint64_t seeds = jobs / (prompts * guidance);
  const std::string path =
      (std::filesystem::temp_directory_path() / "reelfarm_expand_bench.yaml")
          .string();
  {
    std::ofstream out(path);
    out << "name: expand-bench\nrenderer: test-pattern\n"
        << "defaults: {W: 512, H: 512, L: 16, steps: 25}\ngrid:\n  prompt:\n";
    for (uint64_t i = 0; i < prompts; ++i) {
      out << "    - \"a photo of subject number " << i
          << ", cinematic lighting, highly detailed\"\n";
    }
    out << "  guidance_scale: {from: 1, to: " << guidance << ", step: 1}\n"
        << "  seed: {range: [0, " << seeds << "]}\n";
  }
  const double rss_before = PeakRssMiB();

  absl::Time t0 = absl::Now();
  reelfarm::config::LoadOptions options;
  options.output_dir = "/tmp/reelfarm-expand-bench";
  auto spec = reelfarm::config::LoadSweepFile(path, options);
  if (!spec.ok()) {
    std::fprintf(stderr, "%s\n", std::string(spec.status().message()).c_str());
    return 1;
  }
  absl::Time t1 = absl::Now();
  auto expander = reelfarm::SweepExpander::Create(*spec);
  if (!expander.ok()) return 1;
  uint64_t checksum = 0;
  for (uint64_t i = 0; i < expander->size(); ++i) {
    checksum += expander->JobIdAt(i)[0];
  }
  absl::Time t2 = absl::Now();
  reelfarm::NullStateStore store;
  reelfarm::LeaseQueue queue(&store, reelfarm::Clock::Real());
  auto submitted = queue.Submit(*spec);
  if (!submitted.ok()) return 1;
  absl::Time t3 = absl::Now();

  std::printf("jobs:                    %llu (checksum %llu)\n",
              static_cast<unsigned long long>(expander->size()),
              static_cast<unsigned long long>(checksum));
  std::printf("parse + validate:        %8.3f s\n",
              absl::ToDoubleSeconds(t1 - t0));
  std::printf("expand, hash every id:   %8.3f s\n",
              absl::ToDoubleSeconds(t2 - t1));
  std::printf("submit to queue:     %8.3f s (expands again, keeps the table)\n",
              absl::ToDoubleSeconds(t3 - t2));
  std::printf("peak RSS:                %8.1f MiB (%.1f MiB before)\n",
              PeakRssMiB(), rss_before);
  std::filesystem::remove(path);
  return 0;
}
