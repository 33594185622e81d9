#ifndef REELFARM_CLI_THROUGHPUT_H_
#define REELFARM_CLI_THROUGHPUT_H_

#include <cstdint>
#include <deque>
#include <optional>
#include <utility>

#include "absl/time/time.h"

namespace reelfarm::cli {

// Jobs per second over a sliding window: (finished now - finished at the
// window's start) / the time between. A window rather than the whole run,
// so the rate follows nodes joining and leaving; long enough that one job
// finishing does not swing it.
class ThroughputMeter {
 public:
  explicit ThroughputMeter(absl::Duration window = absl::Seconds(30))
      : window_(window) {}

  // `finished`: jobs finished so far (never decreasing), as of `now`.
  void Observe(absl::Time now, uint64_t finished);
  // Unknown until observations span at least a second.
  std::optional<double> JobsPerSecond() const;

 private:
  absl::Duration window_;
  // The oldest entry is the last one at or before the window's start.
  std::deque<std::pair<absl::Time, uint64_t>> samples_;
};

// "45s", "2m05s", "3h07m", "2d04h": two units at most.
std::string ShortDuration(absl::Duration d);

}  // namespace reelfarm::cli

#endif  // REELFARM_CLI_THROUGHPUT_H_
