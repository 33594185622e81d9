#ifndef REELFARM_NODE_GROUP_GROUP_MEMBER_H_
#define REELFARM_NODE_GROUP_GROUP_MEMBER_H_

#include <atomic>
#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "node/group/process_group.h"
#include "node/renderers/renderer.h"

namespace reelfarm {

// What a render left of the group.
enum class GroupState {
  kIntact,
  kBrokenHere,       // this rank's render failed and aborted the group
  kBrokenElsewhere,  // another member failed or went away
};

// Renders `job` as this process's rank of `group`, then agrees with the
// other members on the outcome, so the group is at the same point for the
// next job. Failures every rank meets alike (a bad parameter, models that
// do not load on some member, which the members agree on before the
// render's first collective) leave the group usable; any other failure
// aborts it, since the other ranks may be waiting in a collective for this
// one.
absl::StatusOr<Video> RenderInGroup(ProcessGroup& group, Renderer& renderer,
                                    const v1::Job& job, RenderContext& context,
                                    GroupState* state);

// For a job that failed before its render began (its renderer could not be
// made): tells the other members, which fail it alike, so all move on.
absl::Status AgreeOnFailure(ProcessGroup& group);

// Rank > 0 of a process group: takes no leases and publishes nothing. It
// renders each job the leader sends with the others and drops the frames,
// which the leader publishes.
class GroupFollower {
 public:
  GroupFollower(ProcessGroup* group, RenderEnvironment environment);

  // Until the leader stops (OK) or the group breaks (its error).
  absl::Status Run();
  // From any thread: ends Run, which returns Cancelled.
  void Stop();
  uint64_t jobs_rendered() const { return jobs_rendered_.load(); }

 private:
  ProcessGroup* const group_;
  const RenderEnvironment environment_;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> jobs_rendered_{0};
  std::map<std::string, std::unique_ptr<Renderer>> renderers_;  // by name
};

}  // namespace reelfarm

#endif  // REELFARM_NODE_GROUP_GROUP_MEMBER_H_
