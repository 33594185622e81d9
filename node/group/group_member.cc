#include "node/group/group_member.h"

#include <torch/torch.h>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "node/group/group_channel.h"

namespace reelfarm {
namespace {

// Failures that happen the same way on every rank, before any collective:
// bad parameters, and models that did not load on some member (which the
// members agree on first).
bool SameOnEveryRank(const absl::Status& st) {
  return st.code() == absl::StatusCode::kInvalidArgument ||
         st.code() == absl::StatusCode::kUnimplemented ||
         st.code() == absl::StatusCode::kFailedPrecondition;
}

class FollowerContext : public RenderContext {
 public:
  explicit FollowerContext(const std::atomic<bool>* stopping)
      : stopping_(stopping) {}
  // The pipeline all-reduces this with the leader's: a lost lease there
  // stops every rank at the same step.
  bool Cancelled() const override { return stopping_->load(); }
  void ReportProgress(double) override {}

 private:
  const std::atomic<bool>* stopping_;
};

}  // namespace

absl::Status AgreeOnFailure(ProcessGroup& group) {
  torch::Tensor failed = torch::ones({1});
  return group.control().AllReduceSum(failed);
}

absl::StatusOr<Video> RenderInGroup(ProcessGroup& group, Renderer& renderer,
                                    const v1::Job& job, RenderContext& context,
                                    GroupState* state) {
  *state = GroupState::kIntact;
  absl::StatusOr<Video> video;
  {
    ProcessGroup::HangupWatch watch(group);
    video = renderer.Render(job, context);
  }
  const bool cancelled =
      !video.ok() && video.status().code() == absl::StatusCode::kCancelled;
  if (!video.ok() && !cancelled && !SameOnEveryRank(video.status())) {
    group.Abort();
    *state = GroupState::kBrokenHere;
    return video.status();
  }
  // How many ranks failed: 0 on all, or all of them, keeps the group.
  torch::Tensor failed = torch::full({1}, video.ok() ? 0.0f : 1.0f);
  if (absl::Status st = group.control().AllReduceSum(failed); !st.ok()) {
    *state = GroupState::kBrokenElsewhere;
    return absl::UnavailableError(
        absl::StrCat("process group lost a member: ", st.message()));
  }
  if (video.ok() && failed.item<float>() > 0) {
    return absl::UnavailableError(
        absl::StrCat("job ", job.id(), " failed on another rank"));
  }
  return video;
}

GroupFollower::GroupFollower(ProcessGroup* group, RenderEnvironment environment)
    : group_(group), environment_(std::move(environment)) {}

void GroupFollower::Stop() {
  stopping_.store(true);
  group_->Abort();
}

absl::Status GroupFollower::Run() {
  for (;;) {
    absl::StatusOr<GroupMessage> message =
        ReceiveGroupMessage(group_->control());
    if (stopping_.load()) return absl::CancelledError("stopped");
    if (!message.ok()) {
      return absl::UnavailableError(absl::StrCat("lost the group's leader: ",
                                                 message.status().message()));
    }
    if (message->kind == GroupMessage::Kind::kStop) return absl::OkStatus();
    if (message->kind != GroupMessage::Kind::kJob) continue;
    const v1::Job& job = message->job;
    LogInfo("rendering job ", job.id(), " with the group");
    auto it = renderers_.find(job.renderer().name());
    if (it == renderers_.end()) {
      absl::StatusOr<std::unique_ptr<Renderer>> made =
          MakeRenderer(job.renderer(), environment_);
      if (!made.ok()) {
        // The leader's render fails the same way; it reports the job.
        LogWarning("job ", job.id(), ": ", made.status().ToString());
        if (absl::Status st = AgreeOnFailure(*group_); !st.ok()) {
          return absl::UnavailableError(
              absl::StrCat("lost the group's leader: ", st.message()));
        }
        continue;
      }
      it = renderers_.emplace(job.renderer().name(), *std::move(made)).first;
    }
    FollowerContext context(&stopping_);
    GroupState state = GroupState::kIntact;
    absl::StatusOr<Video> video =
        RenderInGroup(*group_, *it->second, job, context, &state);
    if (state != GroupState::kIntact) return video.status();
    if (video.ok()) {
      ++jobs_rendered_;
    } else {
      LogWarning("job ", job.id(), ": ", video.status().ToString());
    }
  }
}

}  // namespace reelfarm
