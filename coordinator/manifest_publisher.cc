#include "coordinator/manifest_publisher.h"

#include "common/log.h"
#include "coordinator/manifest/gallery.h"
#include "coordinator/manifest/manifest.h"

namespace reelfarm {
namespace {

std::pair<uint64_t, int> VersionOf(const v1::SweepStatus& s) {
  return {s.changes(), static_cast<int>(s.state())};
}

// Sweeps can share an output folder (a sweep extended with more seeds, say);
// its manifest and gallery are the newest sweep's, which lists the jobs it
// reused from the older ones.
bool OwnsFolder(const v1::SweepStatus& sweep,
                const std::vector<v1::SweepStatus>& in_submission_order) {
  bool seen = false;
  for (const v1::SweepStatus& other : in_submission_order) {
    if (other.id() == sweep.id()) {
      seen = true;
    } else if (seen && other.spec().output_dir() == sweep.spec().output_dir()) {
      return false;
    }
  }
  return true;
}

}  // namespace

ManifestPublisher::ManifestPublisher(const LeaseQueue* queue,
                                     absl::Duration interval)
    : queue_(queue), interval_(interval) {}

ManifestPublisher::~ManifestPublisher() { Stop(); }

void ManifestPublisher::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void ManifestPublisher::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return;
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  PublishChanged();
}

void ManifestPublisher::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    cv_.wait_for(lock, absl::ToChronoNanoseconds(interval_));
    if (stop_) break;
    lock.unlock();
    PublishChanged();
    lock.lock();
  }
}

void ManifestPublisher::PublishChanged() {
  const std::vector<v1::SweepStatus> sweeps = queue_->ListSweeps();
  for (const v1::SweepStatus& sweep : sweeps) {
    if (!OwnsFolder(sweep, sweeps)) continue;
    std::lock_guard<std::mutex> lock(write_mu_);
    absl::Status st = PublishLocked(sweep);
    if (!st.ok()) {
      LogWarning("manifest of ", sweep.id(), " not written: ", st.ToString());
    }
  }
}

absl::Status ManifestPublisher::Flush(const std::string& sweep_id) {
  absl::StatusOr<v1::SweepStatus> sweep = queue_->GetSweep(sweep_id);
  if (!sweep.ok()) return sweep.status();
  if (!OwnsFolder(*sweep, queue_->ListSweeps())) return absl::OkStatus();
  std::lock_guard<std::mutex> lock(write_mu_);
  return PublishLocked(*sweep);
}

absl::Status ManifestPublisher::PublishLocked(const v1::SweepStatus& listed) {
  auto it = written_.find(listed.id());
  if (it != written_.end() && it->second == VersionOf(listed)) {
    return absl::OkStatus();
  }
  v1::SweepStatus sweep;
  absl::StatusOr<std::vector<v1::JobStatus>> jobs =
      queue_->ListJobs(listed.id(), &sweep);
  if (!jobs.ok()) return jobs.status();
  if (absl::Status st = WriteManifest(sweep, *jobs); !st.ok()) return st;
  if (absl::Status st = WriteGallery(sweep, *jobs); !st.ok()) return st;
  written_[listed.id()] = VersionOf(sweep);
  return absl::OkStatus();
}

}  // namespace reelfarm
