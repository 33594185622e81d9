#include "coordinator/rendezvous_table.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace reelfarm {

RendezvousTable::RendezvousTable(Clock* clock, RendezvousTableOptions options)
    : clock_(clock), options_(options) {}

absl::Status RendezvousTable::Validate(const std::string& group, uint32_t rank,
                                       uint32_t size,
                                       const std::string& value) const {
  if (group.empty()) {
    return absl::InvalidArgumentError("rendezvous group name is empty");
  }
  if (group.size() > options_.max_group_chars) {
    return absl::InvalidArgumentError(absl::StrCat(
        "rendezvous group name has ", group.size(), " characters, at most ",
        options_.max_group_chars, " are allowed"));
  }
  if (size == 0 || rank >= size) {
    return absl::InvalidArgumentError(
        absl::StrCat("rendezvous group ", group, ": rank ", rank,
                     " is not in a group of size ", size));
  }
  if (rank != 0 && !value.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("rendezvous group ", group, ": rank ", rank,
                     " sent a value; only rank 0 posts one"));
  }
  if (value.size() > options_.max_value_bytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "rendezvous group ", group, ": value of ", value.size(),
        " bytes, at most ", options_.max_value_bytes, " are allowed"));
  }
  return absl::OkStatus();
}

void RendezvousTable::ExpireLocked() {
  const absl::Time now = clock_->Now();
  for (auto it = groups_.begin(); it != groups_.end();) {
    it = it->second.expires <= now ? groups_.erase(it) : std::next(it);
  }
}

const RendezvousTable::Group* RendezvousTable::FindLocked(
    const std::string& group) {
  auto it = groups_.find(group);
  if (it == groups_.end()) return nullptr;
  if (it->second.expires <= clock_->Now()) {
    groups_.erase(it);
    return nullptr;
  }
  return &it->second;
}

absl::Status RendezvousTable::Post(const std::string& group, uint32_t size,
                                   const std::string& value) {
  std::lock_guard<std::mutex> lock(mu_);
  if (shutdown_) return absl::UnavailableError("coordinator is shutting down");
  if (const Group* g = FindLocked(group); g != nullptr) {
    // A retried post (its answer lost) is harmless; another rank 0 under
    // the same name would hand some ranks the wrong bytes.
    if (g->value != value || g->size != size) {
      return absl::FailedPreconditionError(absl::StrCat(
          "rendezvous group ", group,
          " was already posted with other bytes or another size; use a "
          "fresh group name for each meeting"));
    }
    return absl::OkStatus();
  }
  ExpireLocked();
  if (groups_.size() >= options_.max_groups) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "rendezvous table is full (", options_.max_groups,
        " groups within the last ", absl::FormatDuration(options_.ttl), ")"));
  }
  groups_[group] = Group{size, value, clock_->Now() + options_.ttl};
  posted_.notify_all();
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::string>> RendezvousTable::Meet(
    const std::string& group, uint32_t rank, uint32_t size,
    const std::string& value, absl::Duration wait) {
  if (absl::Status st = Validate(group, rank, size, value); !st.ok()) {
    return st;
  }
  if (rank == 0) {
    if (absl::Status st = Post(group, size, value); !st.ok()) return st;
    return std::optional<std::string>(value);
  }
  const absl::Time deadline =
      absl::Now() + std::clamp(wait, absl::ZeroDuration(), options_.max_wait);
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    if (shutdown_) {
      return absl::UnavailableError("coordinator is shutting down");
    }
    if (const Group* g = FindLocked(group); g != nullptr) {
      if (g->size != size) {
        return absl::FailedPreconditionError(
            absl::StrCat("rendezvous group ", group, " has size ", g->size,
                         ", rank ", rank, " asked with size ", size));
      }
      return std::optional<std::string>(g->value);
    }
    if (absl::Now() >= deadline) return std::optional<std::string>();
    ++waiting_;
    posted_.wait_until(lock, absl::ToChronoTime(deadline));
    --waiting_;
  }
}

void RendezvousTable::Shutdown() {
  std::lock_guard<std::mutex> lock(mu_);
  shutdown_ = true;
  posted_.notify_all();
}

size_t RendezvousTable::groups() const {
  std::lock_guard<std::mutex> lock(mu_);
  return groups_.size();
}

size_t RendezvousTable::waiting() const {
  std::lock_guard<std::mutex> lock(mu_);
  return waiting_;
}

}  // namespace reelfarm
