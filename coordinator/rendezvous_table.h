#ifndef REELFARM_COORDINATOR_RENDEZVOUS_TABLE_H_
#define REELFARM_COORDINATOR_RENDEZVOUS_TABLE_H_

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/clock.h"

namespace reelfarm {

struct RendezvousTableOptions {
  // A group is forgotten this long after rank 0 posted (on the table's
  // clock), so names of finished renders do not pile up.
  absl::Duration ttl = absl::Minutes(10);
  // The longest a call waits for rank 0, whatever it asks for.
  absl::Duration max_wait = absl::Seconds(30);
  size_t max_value_bytes = 4096;  // an NCCL id is 128, an address less
  size_t max_group_chars = 256;
  size_t max_groups = 4096;  // posted and not yet expired
};

// Where the ranks of a device group meet: rank 0 posts bytes under the
// group's name, the other ranks wait for them. Thread-safe. Ranks that
// arrive before rank 0 leave no entry; only posts take room, and they
// expire, so the table stays bounded.
class RendezvousTable {
 public:
  // `clock` (not owned) decides expiry; waits are measured on the real
  // clock, as they are waits rather than decisions.
  explicit RendezvousTable(Clock* clock, RendezvousTableOptions options = {});

  // One rank's call. Rank 0 posts `value` and gets it back at once; posting
  // other bytes for a live group is FailedPrecondition, the same bytes are
  // accepted again (a retried call). Other ranks get rank 0's value, or
  // nullopt when it is not posted within `wait` (capped at max_wait).
  // Unavailable once the table is shut down.
  absl::StatusOr<std::optional<std::string>> Meet(const std::string& group,
                                                  uint32_t rank, uint32_t size,
                                                  const std::string& value,
                                                  absl::Duration wait);

  // Wakes every waiting call, which then returns Unavailable, as do later
  // ones.
  void Shutdown();

  // Groups posted and not yet expired (some expired ones may linger until
  // the next post cleans them).
  size_t groups() const;
  // Calls waiting for rank 0 right now.
  size_t waiting() const;

 private:
  struct Group {
    uint32_t size;
    std::string value;
    absl::Time expires;
  };

  absl::Status Validate(const std::string& group, uint32_t rank, uint32_t size,
                        const std::string& value) const;
  absl::Status Post(const std::string& group, uint32_t size,
                    const std::string& value);
  // The live group named `group`, or nullptr; drops it when it expired.
  const Group* FindLocked(const std::string& group);
  void ExpireLocked();

  Clock* const clock_;
  const RendezvousTableOptions options_;
  mutable std::mutex mu_;
  std::condition_variable posted_;
  std::map<std::string, Group> groups_;
  size_t waiting_ = 0;
  bool shutdown_ = false;
};

}  // namespace reelfarm

#endif  // REELFARM_COORDINATOR_RENDEZVOUS_TABLE_H_
