#include "node/group/group_channel.h"

#include <torch/torch.h>

#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"

namespace reelfarm {
namespace {

// A follower refuses anything bigger: a job is a few kilobytes.
constexpr int64_t kMaxJobBytes = 16 << 20;

// Broadcasts {kind, payload bytes}, then the payload; followers pass an
// empty `payload` and get rank 0's.
absl::Status Exchange(pipeline::comm::Communicator& control, int64_t* kind,
                      std::string* payload) {
  torch::Tensor head = torch::tensor(
      {*kind, static_cast<int64_t>(payload->size())}, torch::kInt64);
  if (absl::Status st = control.Broadcast(head, 0); !st.ok()) return st;
  *kind = head[0].item<int64_t>();
  const int64_t bytes = head[1].item<int64_t>();
  if (bytes < 0 || bytes > kMaxJobBytes) {
    return absl::DataLossError(
        absl::StrCat("group message of ", bytes, " bytes"));
  }
  if (bytes == 0) {
    payload->clear();
    return absl::OkStatus();
  }
  torch::Tensor data = torch::zeros({bytes}, torch::kUInt8);
  if (control.rank() == 0) {
    std::memcpy(data.data_ptr(), payload->data(), payload->size());
  }
  if (absl::Status st = control.Broadcast(data, 0); !st.ok()) return st;
  payload->assign(static_cast<const char*>(data.data_ptr()), bytes);
  return absl::OkStatus();
}

}  // namespace

absl::Status SendGroupMessage(pipeline::comm::Communicator& control,
                              const GroupMessage& message) {
  int64_t kind = static_cast<int64_t>(message.kind);
  std::string payload;
  if (message.kind == GroupMessage::Kind::kJob &&
      !message.job.SerializeToString(&payload)) {
    return absl::InternalError("cannot serialize the job");
  }
  return Exchange(control, &kind, &payload);
}

absl::StatusOr<GroupMessage> ReceiveGroupMessage(
    pipeline::comm::Communicator& control) {
  int64_t kind = 0;
  std::string payload;
  if (absl::Status st = Exchange(control, &kind, &payload); !st.ok()) {
    return st;
  }
  GroupMessage message;
  switch (kind) {
    case static_cast<int64_t>(GroupMessage::Kind::kJob):
      message.kind = GroupMessage::Kind::kJob;
      if (!message.job.ParseFromString(payload)) {
        return absl::DataLossError("the leader sent a job that does not parse");
      }
      return message;
    case static_cast<int64_t>(GroupMessage::Kind::kIdle):
      message.kind = GroupMessage::Kind::kIdle;
      return message;
    case static_cast<int64_t>(GroupMessage::Kind::kStop):
      message.kind = GroupMessage::Kind::kStop;
      return message;
    default:
      return absl::DataLossError(
          absl::StrCat("unknown group message kind ", kind));
  }
}

}  // namespace reelfarm
