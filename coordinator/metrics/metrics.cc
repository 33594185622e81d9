#include "coordinator/metrics/metrics.h"

#include <algorithm>
#include <cassert>

namespace reelfarm {

CounterFamily::CounterFamily(std::string name, std::string help,
                             std::vector<std::string> label_names)
    : name_(std::move(name)),
      help_(std::move(help)),
      label_names_(std::move(label_names)) {}

void CounterFamily::Add(const std::vector<std::string>& label_values,
                        double delta) {
  assert(label_values.size() == label_names_.size());
  if (!(delta >= 0)) return;  // a counter never goes down
  std::lock_guard<std::mutex> lock(mu_);
  values_[label_values] += delta;
}

double CounterFamily::Value(
    const std::vector<std::string>& label_values) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = values_.find(label_values);
  return it == values_.end() ? 0 : it->second;
}

void CounterFamily::Write(ExpositionWriter& out) const {
  out.Family(name_, "counter", help_);
  std::lock_guard<std::mutex> lock(mu_);
  // An unlabelled counter reads 0 before its first increment rather than
  // being absent.
  if (values_.empty() && label_names_.empty()) out.Sample(name_, {}, 0);
  for (const auto& [values, value] : values_) {
    MetricLabels labels;
    for (size_t i = 0; i < label_names_.size(); ++i) {
      labels.emplace_back(label_names_[i], values[i]);
    }
    out.Sample(name_, labels, value);
  }
}

Histogram::Histogram(std::string name, std::string help,
                     std::vector<double> upper_bounds)
    : name_(std::move(name)), help_(std::move(help)) {
  std::sort(upper_bounds.begin(), upper_bounds.end());
  data_.upper_bounds = std::move(upper_bounds);
  data_.bucket_counts.assign(data_.upper_bounds.size() + 1, 0);
}

void Histogram::Observe(double value) {
  // The first bucket whose bound is >= value ("le" is inclusive).
  const size_t i = std::lower_bound(data_.upper_bounds.begin(),
                                    data_.upper_bounds.end(), value) -
                   data_.upper_bounds.begin();
  std::lock_guard<std::mutex> lock(mu_);
  ++data_.bucket_counts[i];
  data_.sum += value;
  ++data_.count;
}

HistogramSnapshot Histogram::Snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  return data_;
}

void Histogram::Write(ExpositionWriter& out) const {
  out.Family(name_, "histogram", help_);
  out.Histogram(name_, {}, Snapshot());
}

CounterFamily* MetricsRegistry::AddCounter(
    std::string name, std::string help, std::vector<std::string> label_names) {
  std::lock_guard<std::mutex> lock(mu_);
  counters_.push_back(std::make_unique<CounterFamily>(
      std::move(name), std::move(help), std::move(label_names)));
  CounterFamily* c = counters_.back().get();
  writers_.push_back([c](ExpositionWriter& out) { c->Write(out); });
  return c;
}

Histogram* MetricsRegistry::AddHistogram(std::string name, std::string help,
                                         std::vector<double> upper_bounds) {
  std::lock_guard<std::mutex> lock(mu_);
  histograms_.push_back(std::make_unique<Histogram>(
      std::move(name), std::move(help), std::move(upper_bounds)));
  Histogram* h = histograms_.back().get();
  writers_.push_back([h](ExpositionWriter& out) { h->Write(out); });
  return h;
}

void MetricsRegistry::AddCollector(
    std::function<void(ExpositionWriter&)> collect) {
  std::lock_guard<std::mutex> lock(mu_);
  writers_.push_back(std::move(collect));
}

std::string MetricsRegistry::Render() const {
  std::vector<std::function<void(ExpositionWriter&)>> writers;
  {
    std::lock_guard<std::mutex> lock(mu_);
    writers = writers_;
  }
  ExpositionWriter out;
  for (const auto& write : writers) write(out);
  return out.text();
}

}  // namespace reelfarm
