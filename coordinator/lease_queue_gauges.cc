#include "coordinator/lease_queue_gauges.h"

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "coordinator/manifest/manifest.h"
#include "coordinator/metrics/coordinator_metrics.h"

namespace reelfarm {
namespace {

class Gauges : public prometheus::Collectable {
 public:
  explicit Gauges(const LeaseQueue* queue) : queue_(queue) {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    std::vector<prometheus::MetricFamily> out;
    CollectSweeps(out);
    CollectNodes(out);
    return out;
  }

 private:
  void CollectSweeps(std::vector<prometheus::MetricFamily>& out) const {
    prometheus::MetricFamily jobs =
        GaugeFamily("reelfarm_jobs", "Jobs of each sweep by state.");
    std::map<std::string, int> sweeps_by_state;
    for (v1::SweepState s :
         {v1::SWEEP_STATE_RUNNING, v1::SWEEP_STATE_DONE, v1::SWEEP_STATE_FAILED,
          v1::SWEEP_STATE_CANCELLED}) {
      sweeps_by_state[SweepStateName(s)] = 0;
    }
    for (const v1::SweepStatus& s : queue_->ListSweeps()) {
      ++sweeps_by_state[SweepStateName(s.state())];
      const v1::SweepCounts& c = s.counts();
      const std::pair<v1::JobState, uint64_t> states[] = {
          {v1::JOB_STATE_PENDING, c.pending()},
          {v1::JOB_STATE_LEASED, c.leased()},
          {v1::JOB_STATE_DONE, c.done()},
          {v1::JOB_STATE_FAILED, c.failed()},
          {v1::JOB_STATE_CANCELLED, c.cancelled()}};
      for (const auto& [state, n] : states) {
        AddGauge(jobs, {{"sweep", s.id()}, {"state", JobStateName(state)}},
                 static_cast<double>(n));
      }
    }
    prometheus::MetricFamily sweeps =
        GaugeFamily("reelfarm_sweeps", "Sweeps by state.");
    for (const auto& [state, n] : sweeps_by_state) {
      AddGauge(sweeps, {{"state", state}}, n);
    }
    out.push_back(std::move(jobs));
    out.push_back(std::move(sweeps));
  }

  void CollectNodes(std::vector<prometheus::MetricFamily>& out) const {
    const std::vector<v1::Node> nodes = queue_->ListNodes();
    int quarantined = 0;
    for (const v1::Node& n : nodes) quarantined += n.has_quarantined_until();
    prometheus::MetricFamily known =
        GaugeFamily("reelfarm_nodes_known",
                    "Nodes heard from since the coordinator started.");
    AddGauge(known, {}, static_cast<double>(nodes.size()));
    prometheus::MetricFamily held = GaugeFamily(
        "reelfarm_nodes_quarantined",
        "Nodes getting no leases for now, for failing jobs too often.");
    AddGauge(held, {}, quarantined);

    prometheus::MetricFamily progress = GaugeFamily(
        "reelfarm_device_progress",
        "Fraction of its job each device of a busy lane has rendered, as of "
        "the node's last heartbeat; `rank` is the device's place in its "
        "lane.");
    for (const v1::Node& n : nodes) {
      for (const v1::LaneActivity& a : n.activity()) {
        const std::string lane = std::to_string(a.lane());
        if (a.devices().empty()) {
          AddGauge(progress, {{"node", n.id()}, {"lane", lane}, {"rank", "0"}},
                   a.fraction());
        }
        for (int r = 0; r < a.devices_size(); ++r) {
          AddGauge(progress,
                   {{"node", n.id()},
                    {"lane", lane},
                    {"rank", std::to_string(r)},
                    {"device", a.devices(r).device()}},
                   a.devices(r).fraction());
        }
      }
    }
    out.push_back(std::move(known));
    out.push_back(std::move(held));
    out.push_back(std::move(progress));
  }

  const LeaseQueue* const queue_;
};

}  // namespace

std::shared_ptr<prometheus::Collectable> LeaseQueueGauges(
    const LeaseQueue* queue) {
  return std::make_shared<Gauges>(queue);
}

}  // namespace reelfarm
