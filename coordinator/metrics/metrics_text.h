#ifndef REELFARM_COORDINATOR_METRICS_METRICS_TEXT_H_
#define REELFARM_COORDINATOR_METRICS_METRICS_TEXT_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace reelfarm {

// Label name/value pairs, written in this order.
using MetricLabels = std::vector<std::pair<std::string, std::string>>;

// A histogram as read at one instant. `bucket_counts[i]` counts the
// observations <= `upper_bounds[i]` and above the bound before it (not
// cumulative); the last element counts those above every bound.
struct HistogramSnapshot {
  std::vector<double> upper_bounds;
  std::vector<uint64_t> bucket_counts;  // upper_bounds.size() + 1
  double sum = 0;
  uint64_t count = 0;
};

// Label values escape backslash, double quote and newline; HELP text escapes
// backslash and newline (the text format's rules).
std::string EscapeLabelValue(absl::string_view value);
std::string EscapeHelp(absl::string_view help);
// "+Inf", "-Inf", "NaN", or the shortest decimal that reads back the same.
std::string FormatMetricValue(double value);

// Builds Prometheus text exposition format (version 0.0.4). Each family is
// announced once with HELP and TYPE, and its samples follow it directly.
class ExpositionWriter {
 public:
  // `type`: counter, gauge, histogram or untyped.
  void Family(absl::string_view name, absl::string_view type,
              absl::string_view help);
  void Sample(absl::string_view name, const MetricLabels& labels, double value);
  // The family's _bucket lines (cumulative, le="+Inf" last), _sum and
  // _count.
  void Histogram(absl::string_view name, const MetricLabels& labels,
                 const HistogramSnapshot& h);

  const std::string& text() const { return text_; }

 private:
  std::string text_;
};

}  // namespace reelfarm

#endif  // REELFARM_COORDINATOR_METRICS_METRICS_TEXT_H_
