#ifndef REELFARM_COORDINATOR_MANIFEST_PUBLISHER_H_
#define REELFARM_COORDINATOR_MANIFEST_PUBLISHER_H_

#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "coordinator/lease_queue/lease_queue.h"

namespace reelfarm {

// Rewrites each sweep's manifest (and gallery.html) as results arrive, at most
// once per `interval` (a million-job manifest is large), and at once on Flush.
class ManifestPublisher {
 public:
  ManifestPublisher(const LeaseQueue* queue, absl::Duration interval);
  ~ManifestPublisher();

  void Start();
  void Stop();  // writes what changed, then returns

  // Writes the sweep's manifest now if it changed since the last write.
  absl::Status Flush(const std::string& sweep_id);

 private:
  void Loop();
  void PublishChanged();
  absl::Status PublishLocked(const v1::SweepStatus& sweep);

  const LeaseQueue* const queue_;
  const absl::Duration interval_;
  std::mutex write_mu_;  // one writer at a time
  // sweep id -> (finished jobs, state) at the last write
  std::map<std::string, std::pair<uint64_t, int>> written_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace reelfarm

#endif  // REELFARM_COORDINATOR_MANIFEST_PUBLISHER_H_
