#include "coordinator/metrics/metrics_text.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"

namespace reelfarm {
namespace {

void AppendLabels(std::string* out, const MetricLabels& labels) {
  if (labels.empty()) return;
  out->push_back('{');
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i > 0) out->push_back(',');
    absl::StrAppend(out, labels[i].first, "=\"",
                    EscapeLabelValue(labels[i].second), "\"");
  }
  out->push_back('}');
}

}  // namespace

std::string EscapeLabelValue(absl::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::string EscapeHelp(absl::string_view help) {
  std::string out;
  out.reserve(help.size());
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string FormatMetricValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  // Counts print as integers; other values with as many digits as it takes
  // to read back exactly.
  if (value == std::floor(value) && std::fabs(value) < 1e15) {
    return absl::StrCat(static_cast<int64_t>(value));
  }
  char buf[32];
  for (int precision = 6; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof(buf), "%.*g", precision, value);
    if (std::strtod(buf, nullptr) == value) break;
  }
  return buf;
}

void ExpositionWriter::Family(absl::string_view name, absl::string_view type,
                              absl::string_view help) {
  absl::StrAppend(&text_, "# HELP ", name, " ", EscapeHelp(help), "\n",
                  "# TYPE ", name, " ", type, "\n");
}

void ExpositionWriter::Sample(absl::string_view name,
                              const MetricLabels& labels, double value) {
  absl::StrAppend(&text_, name);
  AppendLabels(&text_, labels);
  absl::StrAppend(&text_, " ", FormatMetricValue(value), "\n");
}

void ExpositionWriter::Histogram(absl::string_view name,
                                 const MetricLabels& labels,
                                 const HistogramSnapshot& h) {
  const std::string bucket = absl::StrCat(name, "_bucket");
  uint64_t cumulative = 0;
  MetricLabels with_le = labels;
  with_le.emplace_back("le", "");
  for (size_t i = 0; i < h.upper_bounds.size(); ++i) {
    cumulative += i < h.bucket_counts.size() ? h.bucket_counts[i] : 0;
    with_le.back().second = FormatMetricValue(h.upper_bounds[i]);
    Sample(bucket, with_le, static_cast<double>(cumulative));
  }
  // le="+Inf" holds every observation: the same number as _count.
  with_le.back().second = "+Inf";
  Sample(bucket, with_le, static_cast<double>(h.count));
  Sample(absl::StrCat(name, "_sum"), labels, h.sum);
  Sample(absl::StrCat(name, "_count"), labels, static_cast<double>(h.count));
}

}  // namespace reelfarm
