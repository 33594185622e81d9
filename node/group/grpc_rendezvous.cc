#include "node/group/grpc_rendezvous.h"

#include <grpcpp/client_context.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "rpc/grpc_status.h"

namespace reelfarm {
namespace {

// Beyond the time the server holds a call: the round trip.
constexpr absl::Duration kCallSlack = absl::Seconds(5);
constexpr absl::Duration kFirstBackoff = absl::Milliseconds(50);
constexpr absl::Duration kMaxBackoff = absl::Seconds(1);

}  // namespace

GrpcRendezvous::GrpcRendezvous(v1::Coordinator::StubInterface* stub,
                               std::string group, int size, Options options)
    : stub_(stub), group_(std::move(group)), size_(size), options_(options) {}

absl::StatusOr<std::string> GrpcRendezvous::Share(int rank,
                                                  const std::string& bytes) {
  if (rank < 0 || rank >= size_) {
    return absl::InvalidArgumentError(
        absl::StrCat("rendezvous group ", group_, ": rank ", rank,
                     " is not in a group of size ", size_));
  }
  const absl::Time start = absl::Now();
  const absl::Time deadline = start + options_.timeout;
  v1::RendezvousRequest request;
  request.set_group(group_);
  request.set_rank(static_cast<uint32_t>(rank));
  request.set_size(static_cast<uint32_t>(size_));
  if (rank == 0) request.set_value(bytes);
  absl::Duration backoff = kFirstBackoff;
  std::string last_error;
  while (true) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      return absl::DeadlineExceededError(absl::StrCat(
          "rendezvous group ", group_, ": rank ", rank, " waited ",
          absl::FormatDuration(
              absl::Trunc(absl::Now() - start, absl::Milliseconds(100))),
          " for rank 0",
          last_error.empty() ? "" : " (last error: " + last_error + ")"));
    }
    const absl::Duration wait =
        rank == 0 ? absl::ZeroDuration() : std::min(left, options_.poll);
    request.set_wait_ms(static_cast<uint32_t>(absl::ToInt64Milliseconds(wait)));
    grpc::ClientContext context;
    // Never past the caller's deadline, however slow the coordinator.
    context.set_deadline(absl::ToChronoTime(
        std::min(absl::Now() + wait + kCallSlack, deadline)));
    v1::RendezvousResponse response;
    const grpc::Status status = stub_->Rendezvous(&context, request, &response);
    if (status.ok()) {
      if (response.ready()) return response.value();
      backoff = kFirstBackoff;
      continue;  // rank 0 not there yet: ask again
    }
    // The coordinator restarting or out of reach: try again shortly.
    if (status.error_code() == grpc::StatusCode::UNAVAILABLE ||
        status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
      last_error = status.error_message();
      absl::SleepFor(std::min(backoff, deadline - absl::Now()));
      backoff = std::min(backoff * 2, kMaxBackoff);
      continue;
    }
    const absl::Status error = FromGrpcStatus(status);
    return absl::Status(
        error.code(), absl::StrCat("rendezvous group ", group_, ", rank ", rank,
                                   ": ", error.message()));
  }
}

}  // namespace reelfarm
