// The leader's side of a process group: forming it, and what it tells the
// followers.

#include "absl/strings/str_join.h"
#include "common/log.h"
#include "node/group/group_channel.h"
#include "node/node_agent.h"

namespace reelfarm {

absl::Status NodeAgent::FormGroup() {
  LogInfo("forming process group ", options_.group->name, " of ",
          options_.group->size, " as its leader");
  absl::StatusOr<std::unique_ptr<ProcessGroup>> group =
      ProcessGroup::Form(stub_.get(), *options_.group, options_.devices[0]);
  if (!group.ok()) return group.status();
  group_ = *std::move(group);
  std::vector<v1::Device>& lane = lane_devices_[0];
  lane.clear();
  for (const std::string& member : group_->members()) {
    lane.emplace_back().set_name(member);
  }
  LogInfo("process group ", options_.group->name,
          " formed: ", absl::StrJoin(group_->members(), ", "));
  return absl::OkStatus();
}

bool NodeAgent::TellGroup(const GroupMessage& message) {
  if (group_ == nullptr) return true;
  if (group_broken_.load()) return false;
  if (absl::Status st = SendGroupMessage(group_->control(), message);
      !st.ok()) {
    BreakGroup(st);
    return false;
  }
  return true;
}

void NodeAgent::BreakGroup(const absl::Status& why) {
  if (group_broken_.exchange(true)) return;
  LogError("process group ", options_.group->name, " broke: ", why.message(),
           "; handing work back and stopping");
  group_->Abort();
  Drain();
}

}  // namespace reelfarm
