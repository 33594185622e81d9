#include "coordinator/lease_waiters.h"

#include <algorithm>

#include "absl/time/clock.h"

namespace reelfarm {
namespace {

// Bounds how late an expired wait is answered when no work arrives.
constexpr absl::Duration kMaxNap = absl::Milliseconds(100);

}  // namespace

LeaseWaiters::LeaseWaiters(LeaseQueue* queue, CoordinatorMetrics* metrics)
    : queue_(queue), metrics_(metrics) {
  thread_ = std::thread([this] { Dispatch(); });
}

LeaseWaiters::~LeaseWaiters() { Shutdown(); }

void LeaseWaiters::Park(grpc::ServerUnaryReactor* reactor,
                        v1::AcquireLeaseResponse* response, std::string node_id,
                        uint32_t lane, uint32_t lane_devices,
                        absl::Time deadline, absl::Time arrived) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!stop_) {
      waiters_.push_back({reactor, response, std::move(node_id), lane,
                          lane_devices, deadline, arrived});
      cv_.notify_one();
      return;
    }
  }
  reactor->Finish(grpc::Status::OK);
}

void LeaseWaiters::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return;
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  // After the join: the dispatcher may have put waiters back on its way out.
  std::deque<Waiter> left;
  {
    std::lock_guard<std::mutex> lock(mu_);
    left.swap(waiters_);
  }
  // A call that is never finished would hold up the server's shutdown.
  for (Waiter& w : left) w.reactor->Finish(grpc::Status::OK);
}

void LeaseWaiters::Dispatch() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    if (waiters_.empty()) {
      cv_.wait(lock, [this] { return stop_ || !waiters_.empty(); });
      continue;
    }
    // Serve waiters in order while there is work, then answer the expired.
    std::deque<Waiter> batch;
    batch.swap(waiters_);
    lock.unlock();
    // Read before the pass: work queued during it ends the nap at once.
    const uint64_t generation = queue_->WorkGeneration();
    const absl::Time now = absl::Now();
    absl::Time next_deadline = absl::InfiniteFuture();
    std::deque<Waiter> still_waiting;
    bool work_left = true;
    for (Waiter& w : batch) {
      if (work_left) {
        auto lease = queue_->Acquire(w.node_id, w.lane, w.lane_devices);
        if (lease.ok() && lease->has_value()) {
          *w.response->mutable_lease() = **std::move(lease);
          if (metrics_ != nullptr)
            metrics_->LeaseGranted(absl::Now() - w.arrived);
          w.reactor->Finish(grpc::Status::OK);
          continue;
        }
        // A lane that cannot take the pending jobs (too few devices, or
        // it failed them before) says nothing of the next lane.
        work_left = queue_->HasPendingWork();
      }
      if (w.deadline <= now) {
        w.reactor->Finish(grpc::Status::OK);
        continue;
      }
      next_deadline = std::min(next_deadline, w.deadline);
      still_waiting.push_back(std::move(w));
    }
    lock.lock();
    // Newly parked calls go after the ones that have waited longer.
    for (auto it = still_waiting.rbegin(); it != still_waiting.rend(); ++it) {
      waiters_.push_front(std::move(*it));
    }
    if (waiters_.empty() || stop_) continue;
    lock.unlock();
    queue_->WaitForWork(std::min(next_deadline - absl::Now(), kMaxNap),
                        generation);
    lock.lock();
  }
}

}  // namespace reelfarm
