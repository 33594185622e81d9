#include "coordinator/metrics/coordinator_metrics.h"

#include "coordinator/lease_queue/lease_queue.h"
#include "coordinator/manifest/manifest.h"

namespace reelfarm {
namespace {

// From an immediate grant to a long poll that waited out most of its limit.
const std::vector<double> kLeaseGrantBuckets = {
    0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30};
// From a tiny test model to long clips on a slow card.
const std::vector<double> kRenderBuckets = {0.1, 0.5, 1,   2.5, 5,   10,
                                            30,  60,  120, 300, 600, 1800};

void WriteLeaseQueueGauges(const LeaseQueue& queue, ExpositionWriter& out) {
  const std::vector<v1::SweepStatus> sweeps = queue.ListSweeps();
  out.Family("reelfarm_jobs", "gauge", "Jobs of each sweep by state.");
  std::map<std::string, int> sweeps_by_state;
  for (v1::SweepState s : {v1::SWEEP_STATE_RUNNING, v1::SWEEP_STATE_DONE,
                           v1::SWEEP_STATE_FAILED, v1::SWEEP_STATE_CANCELLED}) {
    sweeps_by_state[SweepStateName(s)] = 0;
  }
  for (const v1::SweepStatus& s : sweeps) {
    ++sweeps_by_state[SweepStateName(s.state())];
    const v1::SweepCounts& c = s.counts();
    const std::pair<v1::JobState, uint64_t> states[] = {
        {v1::JOB_STATE_PENDING, c.pending()},
        {v1::JOB_STATE_LEASED, c.leased()},
        {v1::JOB_STATE_DONE, c.done()},
        {v1::JOB_STATE_FAILED, c.failed()},
        {v1::JOB_STATE_CANCELLED, c.cancelled()}};
    for (const auto& [state, n] : states) {
      out.Sample("reelfarm_jobs",
                 {{"sweep", s.id()}, {"state", JobStateName(state)}},
                 static_cast<double>(n));
    }
  }
  out.Family("reelfarm_sweeps", "gauge", "Sweeps by state.");
  for (const auto& [state, n] : sweeps_by_state) {
    out.Sample("reelfarm_sweeps", {{"state", state}}, n);
  }

  const std::vector<v1::Node> nodes = queue.ListNodes();
  int quarantined = 0;
  for (const v1::Node& n : nodes) quarantined += n.has_quarantined_until();
  out.Family("reelfarm_nodes_known", "gauge",
             "Nodes heard from since the coordinator started.");
  out.Sample("reelfarm_nodes_known", {}, static_cast<double>(nodes.size()));
  out.Family("reelfarm_nodes_quarantined", "gauge",
             "Nodes getting no leases for now, for failing jobs too often.");
  out.Sample("reelfarm_nodes_quarantined", {}, quarantined);

  out.Family("reelfarm_device_progress", "gauge",
             "Fraction of its job each device of a busy lane has rendered, "
             "as of the node's last heartbeat; `rank` is the device's "
             "place in its lane.");
  for (const v1::Node& n : nodes) {
    for (const v1::LaneActivity& a : n.activity()) {
      const std::string lane = std::to_string(a.lane());
      if (a.devices().empty()) {
        out.Sample("reelfarm_device_progress",
                   {{"node", n.id()}, {"lane", lane}, {"rank", "0"}},
                   a.fraction());
      }
      for (int r = 0; r < a.devices_size(); ++r) {
        out.Sample("reelfarm_device_progress",
                   {{"node", n.id()},
                    {"lane", lane},
                    {"rank", std::to_string(r)},
                    {"device", a.devices(r).device()}},
                   a.devices(r).fraction());
      }
    }
  }
}

}  // namespace

CoordinatorMetrics::CoordinatorMetrics(Clock* clock) : clock_(clock) {
  leases_granted_ = registry_.AddCounter("reelfarm_leases_granted_total",
                                         "Leases granted to nodes.");
  leases_expired_ = registry_.AddCounter(
      "reelfarm_leases_expired_total",
      "Leases that expired without a heartbeat; their jobs were queued "
      "again.");
  lease_grant_seconds_ = registry_.AddHistogram(
      "reelfarm_lease_grant_seconds",
      "Seconds from an AcquireLease call's arrival to its lease being "
      "granted: results sent with the call, then time parked waiting for "
      "work, included. Calls that end without a lease are not counted.",
      kLeaseGrantBuckets);
  render_seconds_ = registry_.AddHistogram(
      "reelfarm_render_seconds",
      "Render time of finished jobs as the nodes report it "
      "(JobResult.timings.render_seconds).",
      kRenderBuckets);
  node_jobs_completed_ = registry_.AddCounter(
      "reelfarm_node_jobs_completed_total",
      "Jobs each node finished (accepted results).", {"node"});
  registry_.AddCollector(
      [this](ExpositionWriter& out) { WriteNodeThroughput(out); });
}

void CoordinatorMetrics::AttachLeaseQueue(const LeaseQueue* queue) {
  registry_.AddCollector(
      [queue](ExpositionWriter& out) { WriteLeaseQueueGauges(*queue, out); });
}

void CoordinatorMetrics::LeaseGranted(absl::Duration wait) {
  leases_granted_->Add({});
  lease_grant_seconds_->Observe(absl::ToDoubleSeconds(wait));
}

void CoordinatorMetrics::LeasesExpired(int count) {
  if (count > 0) leases_expired_->Add({}, count);
}

void CoordinatorMetrics::JobCompleted(const std::string& node_id,
                                      double render_seconds) {
  node_jobs_completed_->Add({node_id});
  render_seconds_->Observe(render_seconds);
  std::lock_guard<std::mutex> lock(mu_);
  recent_completions_[node_id].push_back(clock_->Now());
}

void CoordinatorMetrics::WriteNodeThroughput(ExpositionWriter& out) {
  out.Family("reelfarm_node_jobs_per_second", "gauge",
             "Jobs each node finished per second over the last 60 seconds.");
  const absl::Time since = clock_->Now() - kThroughputWindow;
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [node, times] : recent_completions_) {
    while (!times.empty() && times.front() <= since) times.pop_front();
    // A node that went quiet reads 0 rather than vanishing.
    out.Sample("reelfarm_node_jobs_per_second", {{"node", node}},
               times.size() / absl::ToDoubleSeconds(kThroughputWindow));
  }
}

}  // namespace reelfarm
