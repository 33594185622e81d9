#include "cli/throughput.h"

#include <string>

#include "absl/strings/str_format.h"

namespace reelfarm::cli {

void ThroughputMeter::Observe(absl::Time now, uint64_t finished) {
  samples_.emplace_back(now, finished);
  while (samples_.size() > 2 && samples_[1].first <= now - window_) {
    samples_.pop_front();
  }
}

std::optional<double> ThroughputMeter::JobsPerSecond() const {
  if (samples_.size() < 2) return std::nullopt;
  const double seconds =
      absl::ToDoubleSeconds(samples_.back().first - samples_.front().first);
  if (seconds < 1) return std::nullopt;
  return (samples_.back().second - samples_.front().second) / seconds;
}

std::string ShortDuration(absl::Duration d) {
  int64_t s = absl::ToInt64Seconds(d);
  if (s < 0) s = 0;
  if (s < 60) return absl::StrFormat("%ds", s);
  if (s < 3600) return absl::StrFormat("%dm%02ds", s / 60, s % 60);
  if (s < 86400) return absl::StrFormat("%dh%02dm", s / 3600, s % 3600 / 60);
  return absl::StrFormat("%dd%02dh", s / 86400, s % 86400 / 3600);
}

}  // namespace reelfarm::cli
