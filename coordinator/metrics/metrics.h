#ifndef REELFARM_COORDINATOR_METRICS_METRICS_H_
#define REELFARM_COORDINATOR_METRICS_METRICS_H_

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "coordinator/metrics/metrics_text.h"

namespace reelfarm {

// Counters with a fixed list of label names; one series per label values.
// Thread-safe.
class CounterFamily {
 public:
  CounterFamily(std::string name, std::string help,
                std::vector<std::string> label_names);
  // `label_values` pairs with the label names, in order. `delta` >= 0.
  void Add(const std::vector<std::string>& label_values, double delta = 1);
  double Value(const std::vector<std::string>& label_values) const;
  void Write(ExpositionWriter& out) const;

 private:
  const std::string name_;
  const std::string help_;
  const std::vector<std::string> label_names_;
  mutable std::mutex mu_;
  std::map<std::vector<std::string>, double> values_;
};

// An unlabelled histogram over fixed bucket bounds. Thread-safe.
class Histogram {
 public:
  // `upper_bounds` ascending; +Inf is implied.
  Histogram(std::string name, std::string help,
            std::vector<double> upper_bounds);
  void Observe(double value);
  HistogramSnapshot Snapshot() const;
  void Write(ExpositionWriter& out) const;

 private:
  const std::string name_;
  const std::string help_;
  mutable std::mutex mu_;
  HistogramSnapshot data_;
};

// The metrics one process exposes: instruments it owns, plus collectors
// that write families computed at scrape time (such as gauges read from the
// queue), so nothing has to keep those in step as state changes.
class MetricsRegistry {
 public:
  CounterFamily* AddCounter(std::string name, std::string help,
                            std::vector<std::string> label_names = {});
  Histogram* AddHistogram(std::string name, std::string help,
                          std::vector<double> upper_bounds);
  void AddCollector(std::function<void(ExpositionWriter&)> collect);

  // Every family in text exposition format, instruments and collectors in
  // the order they were added.
  std::string Render() const;

 private:
  mutable std::mutex mu_;
  std::vector<std::function<void(ExpositionWriter&)>> writers_;
  std::vector<std::unique_ptr<CounterFamily>> counters_;
  std::vector<std::unique_ptr<Histogram>> histograms_;
};

}  // namespace reelfarm

#endif  // REELFARM_COORDINATOR_METRICS_METRICS_H_
