// What the queue knows of nodes: when each was last heard from, and
// which are quarantined for failing too often.

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "coordinator/lease_queue/lease_queue.h"
#include "coordinator/lease_queue/lease_queue_internal.h"
#include "rpc/proto_time.h"

namespace reelfarm {

LeaseQueue::NodeEntry& LeaseQueue::TouchNodeLocked(const std::string& node_id) {
  // A node the coordinator does not know (it restarted and lost its node
  // table, which is not persisted) is known again from its first call.
  NodeEntry& entry = nodes_[node_id];
  if (entry.node.id().empty()) entry.node.set_id(node_id);
  entry.last_seen = clock_->Now();
  return entry;
}

bool LeaseQueue::OtherNodeCanTakeLocked(const JobSlot& job) const {
  const absl::Time now = clock_->Now();
  for (const auto& [id, entry] : nodes_) {
    if (std::count(job.failed_on.begin(), job.failed_on.end(), id) > 0) {
      continue;
    }
    if (IsLiveLocked(entry, now)) return true;
  }
  return false;
}

bool LeaseQueue::IsLiveLocked(const NodeEntry& node, absl::Time now) const {
  return node.quarantined_until <= now &&
         now - node.last_seen < options_.lease_ttl;
}

uint32_t LeaseQueue::LaneWidth(const NodeEntry& node, uint32_t lane) {
  for (const v1::Lane& l : node.node.lane_layout()) {
    if (l.index() == lane) {
      return std::max(1, l.devices_size());
    }
  }
  auto it = node.lane_devices.find(lane);
  return it == node.lane_devices.end() ? 1 : std::max(1u, it->second);
}

uint32_t LeaseQueue::WidestLiveLaneLocked(
    const std::vector<std::string>& excluded) const {
  const absl::Time now = clock_->Now();
  uint32_t widest = 1;
  for (const auto& [id, entry] : nodes_) {
    if (!IsLiveLocked(entry, now) ||
        std::count(excluded.begin(), excluded.end(), id) > 0) {
      continue;
    }
    for (const v1::Lane& l : entry.node.lane_layout()) {
      widest = std::max<uint32_t>(widest, l.devices_size());
    }
    for (const auto& [lane, devices] : entry.lane_devices) {
      widest = std::max(widest, devices);
    }
  }
  return widest;
}

void LeaseQueue::NoteFailedOnLocked(JobSlot& job, const std::string& node_id) {
  // A few names are enough to steer retries; a job that failed on many
  // nodes is failing for its own reasons.
  constexpr size_t kMaxRemembered = 8;
  if (std::count(job.failed_on.begin(), job.failed_on.end(), node_id) > 0 ||
      job.failed_on.size() >= kMaxRemembered) {
    return;
  }
  job.failed_on.push_back(node_id);
}

void LeaseQueue::NoteFailureLocked(const std::string& node_id) {
  NodeEntry& entry = TouchNodeLocked(node_id);
  if (++entry.failures_in_a_row < options_.quarantine_after_failures) return;
  entry.failures_in_a_row = 0;
  entry.quarantined_until = clock_->Now() + options_.quarantine_for;
  LogWarning("node ", node_id, " failed ", options_.quarantine_after_failures,
             " jobs in a row: no leases for it until ",
             absl::FormatTime(entry.quarantined_until));
}

bool LeaseQueue::IsQuarantined(const std::string& node_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = nodes_.find(node_id);
  return it != nodes_.end() && it->second.quarantined_until > clock_->Now();
}

std::vector<v1::Node> LeaseQueue::ListNodes() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<v1::Node> out;
  for (const auto& [id, entry] : nodes_) {
    v1::Node& node = out.emplace_back(entry.node);
    *node.mutable_last_seen() = ToProtoTimestamp(entry.last_seen);
    node.clear_activity();
    for (const auto& [lane, activity] : entry.activity) {
      *node.add_activity() = activity;
    }
    if (entry.quarantined_until > clock_->Now()) {
      *node.mutable_quarantined_until() =
          ToProtoTimestamp(entry.quarantined_until);
    }
  }
  return out;
}

}  // namespace reelfarm
