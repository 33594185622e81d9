#include "coordinator/coordinator_service.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/atomic_file.h"
#include "common/log.h"
#include "common/safe_path.h"
#include "rpc/grpc_status.h"

namespace reelfarm {
namespace {

grpc::Status InvalidArgument(const std::string& message) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, message);
}

// How often a watch re-reads the sweep when nothing finished, so a client
// that went away is noticed.
constexpr absl::Duration kWatchPoll = absl::Seconds(1);

}  // namespace

grpc::Status CoordinatorService::SubmitSweep(
    grpc::ServerContext* context, const v1::SubmitSweepRequest* request,
    v1::SubmitSweepResponse* response) {
  if (grpc::Status denied = auth_->Check(*context); !denied.ok()) {
    return denied;
  }
  const v1::SweepSpec& spec = request->spec();
  // Where outputs go is the submitter's choice, but the path must say
  // plainly where: no ".." to climb out of a folder that looks harmless, no
  // NUL to cut it short.
  if (!IsPlainAbsolutePath(spec.output_dir())) {
    return InvalidArgument(
        "spec.output_dir must be an absolute path without '..', NUL bytes or "
        "control characters");
  }
  if (absl::Status st = MakeDirectories(spec.output_dir()); !st.ok()) {
    return ToGrpcStatus(absl::FailedPreconditionError(st.message()));
  }
  absl::StatusOr<SubmitResult> result = queue_->Submit(spec);
  if (!result.ok()) return ToGrpcStatus(result.status());
  response->set_sweep_id(result->sweep_id);
  response->set_jobs(result->jobs);
  response->set_already_done(result->already_done);
  response->set_reused(result->reused);
  response->set_requeued(result->requeued);
  LogInfo("sweep ", result->sweep_id, " '", spec.name(), "': ", result->jobs,
          " jobs, ", result->already_done, " already done (", result->reused,
          " from earlier sweeps), ", result->requeued, " queued again, ",
          result->duplicates_merged, " duplicates merged");
  manifests_->Flush(result->sweep_id).IgnoreError();
  return grpc::Status::OK;
}

grpc::Status CoordinatorService::GetSweep(grpc::ServerContext* context,
                                          const v1::GetSweepRequest* request,
                                          v1::GetSweepResponse* response) {
  if (grpc::Status denied = auth_->Check(*context); !denied.ok()) {
    return denied;
  }
  if (request->include_jobs()) {
    absl::StatusOr<std::vector<v1::JobStatus>> jobs =
        queue_->ListJobs(request->sweep_id(), response->mutable_sweep());
    if (!jobs.ok()) return ToGrpcStatus(jobs.status());
    for (v1::JobStatus& j : *jobs) *response->add_jobs() = std::move(j);
    return grpc::Status::OK;
  }
  absl::StatusOr<v1::SweepStatus> sweep = queue_->GetSweep(request->sweep_id());
  if (!sweep.ok()) return ToGrpcStatus(sweep.status());
  *response->mutable_sweep() = *std::move(sweep);
  return grpc::Status::OK;
}

grpc::Status CoordinatorService::WatchSweep(
    grpc::ServerContext* context, const v1::WatchSweepRequest* request,
    grpc::ServerWriter<v1::WatchSweepEvent>* writer) {
  if (grpc::Status denied = auth_->Check(*context); !denied.ok()) {
    return denied;
  }
  absl::StatusOr<v1::SweepStatus> first = queue_->GetSweep(request->sweep_id());
  if (!first.ok()) return ToGrpcStatus(first.status());
  v1::WatchSweepEvent event;
  *event.mutable_sweep() = *first;
  if (!writer->Write(event)) return grpc::Status::CANCELLED;
  uint64_t cursor = 0;
  while (!context->IsCancelled()) {
    absl::StatusOr<SweepChanges> changes =
        queue_->WaitForChanges(request->sweep_id(), cursor, kWatchPoll);
    if (!changes.ok()) return ToGrpcStatus(changes.status());
    cursor = changes->cursor;
    for (v1::JobStatus& job : changes->finished) {
      v1::WatchSweepEvent e;
      *e.mutable_sweep() = changes->sweep;
      *e.mutable_job() = std::move(job);
      if (!writer->Write(e)) return grpc::Status::CANCELLED;
    }
    const bool caught_up = changes->finished.empty();
    if (caught_up && changes->sweep.state() != v1::SWEEP_STATE_RUNNING) {
      // The manifest is complete before the watcher hears the sweep ended.
      if (absl::Status st = manifests_->Flush(request->sweep_id()); !st.ok()) {
        LogWarning("manifest of ", request->sweep_id(), ": ", st.ToString());
      }
      v1::WatchSweepEvent last;
      *last.mutable_sweep() = changes->sweep;
      writer->Write(last);
      return grpc::Status::OK;
    }
  }
  return grpc::Status::CANCELLED;
}

grpc::Status CoordinatorService::CancelSweep(
    grpc::ServerContext* context, const v1::CancelSweepRequest* request,
    v1::CancelSweepResponse* response) {
  if (grpc::Status denied = auth_->Check(*context); !denied.ok()) {
    return denied;
  }
  absl::StatusOr<v1::SweepStatus> sweep = queue_->Cancel(request->sweep_id());
  if (!sweep.ok()) return ToGrpcStatus(sweep.status());
  *response->mutable_sweep() = *std::move(sweep);
  manifests_->Flush(request->sweep_id()).IgnoreError();
  return grpc::Status::OK;
}

grpc::Status CoordinatorService::ListSweeps(grpc::ServerContext* context,
                                            const v1::ListSweepsRequest*,
                                            v1::ListSweepsResponse* response) {
  if (grpc::Status denied = auth_->Check(*context); !denied.ok()) {
    return denied;
  }
  for (v1::SweepStatus& s : queue_->ListSweeps()) {
    *response->add_sweeps() = std::move(s);
  }
  return grpc::Status::OK;
}

grpc::Status CoordinatorService::ResumeSweep(
    grpc::ServerContext* context, const v1::ResumeSweepRequest* request,
    v1::ResumeSweepResponse* response) {
  if (grpc::Status denied = auth_->Check(*context); !denied.ok()) {
    return denied;
  }
  absl::StatusOr<SubmitResult> result = queue_->Resume(request->sweep_id());
  if (!result.ok()) return ToGrpcStatus(result.status());
  absl::StatusOr<v1::SweepStatus> sweep = queue_->GetSweep(request->sweep_id());
  if (!sweep.ok()) return ToGrpcStatus(sweep.status());
  *response->mutable_sweep() = *std::move(sweep);
  response->set_already_done(result->already_done);
  response->set_requeued(result->requeued);
  LogInfo("sweep ", request->sweep_id(), " resumed: ", result->requeued,
          " job(s) queued again, ", result->already_done, " done");
  manifests_->Flush(request->sweep_id()).IgnoreError();
  return grpc::Status::OK;
}

grpc::Status CoordinatorService::ListNodes(grpc::ServerContext* context,
                                           const v1::ListNodesRequest*,
                                           v1::ListNodesResponse* response) {
  if (grpc::Status denied = auth_->Check(*context); !denied.ok()) {
    return denied;
  }
  for (v1::Node& n : queue_->ListNodes()) {
    *response->add_nodes() = std::move(n);
  }
  return grpc::Status::OK;
}

grpc::Status CoordinatorService::RegisterNode(
    grpc::ServerContext* context, const v1::RegisterNodeRequest* request,
    v1::RegisterNodeResponse* response) {
  if (grpc::Status denied = auth_->Check(*context); !denied.ok()) {
    return denied;
  }
  v1::Node node = request->node();
  if (node.host().empty()) node.set_host(context->peer());
  const std::string id = queue_->RegisterNode(node);
  response->set_node_id(id);
  const int64_t ttl_ms = absl::ToInt64Milliseconds(queue_->lease_ttl());
  response->set_lease_ttl_ms(static_cast<uint32_t>(ttl_ms));
  response->set_heartbeat_interval_ms(
      static_cast<uint32_t>(std::max<int64_t>(ttl_ms / 4, 10)));
  LogInfo("node ", id, " registered from ", context->peer(), " with ",
          node.lanes(), " lane(s)");
  return grpc::Status::OK;
}

grpc::ServerUnaryReactor* CoordinatorService::AcquireLease(
    grpc::CallbackServerContext* context,
    const v1::AcquireLeaseRequest* request,
    v1::AcquireLeaseResponse* response) {
  const absl::Time arrived = absl::Now();  // grant latency counts from here
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (grpc::Status denied = auth_->Check(*context); !denied.ok()) {
    reactor->Finish(denied);
    return reactor;
  }
  if (request->node_id().empty()) {
    reactor->Finish(InvalidArgument("node_id is empty"));
    return reactor;
  }
  for (const v1::CompleteJobRequest& done : request->completed()) {
    absl::StatusOr<bool> accepted =
        queue_->Complete(done.lease_id(), done.epoch(), done.result());
    if (!accepted.ok()) {
      reactor->Finish(ToGrpcStatus(accepted.status()));
      return reactor;
    }
    response->add_completed_accepted(*accepted);
  }
  absl::StatusOr<std::optional<v1::Lease>> lease = queue_->Acquire(
      request->node_id(), request->lane(), request->lane_devices());
  if (!lease.ok()) {
    reactor->Finish(ToGrpcStatus(lease.status()));
  } else if (lease->has_value()) {
    *response->mutable_lease() = **std::move(lease);
    if (metrics_ != nullptr) metrics_->LeaseGranted(absl::Now() - arrived);
    reactor->Finish(grpc::Status::OK);
  } else if (request->wait_ms() == 0) {
    reactor->Finish(grpc::Status::OK);
  } else {
    const absl::Duration wait =
        std::min(absl::Milliseconds(request->wait_ms()), max_lease_wait_);
    waiters_->Park(reactor, response, request->node_id(), request->lane(),
                   request->lane_devices(), absl::Now() + wait, arrived);
  }
  return reactor;
}

grpc::Status CoordinatorService::Heartbeat(grpc::ServerContext* context,
                                           const v1::HeartbeatRequest* request,
                                           v1::HeartbeatResponse* response) {
  if (grpc::Status denied = auth_->Check(*context); !denied.ok()) {
    return denied;
  }
  const std::vector<v1::LeaseProgress> progress(request->leases().begin(),
                                                request->leases().end());
  for (std::string& id :
       queue_->HeartbeatWithProgress(request->node_id(), progress)) {
    response->add_lost_lease_ids(std::move(id));
  }
  response->set_draining(draining_.load());
  return grpc::Status::OK;
}

grpc::Status CoordinatorService::CompleteJob(
    grpc::ServerContext* context, const v1::CompleteJobRequest* request,
    v1::CompleteJobResponse* response) {
  if (grpc::Status denied = auth_->Check(*context); !denied.ok()) {
    return denied;
  }
  absl::StatusOr<bool> accepted = queue_->Complete(
      request->lease_id(), request->epoch(), request->result());
  if (!accepted.ok()) return ToGrpcStatus(accepted.status());
  response->set_accepted(*accepted);
  return grpc::Status::OK;
}

grpc::Status CoordinatorService::FailJob(grpc::ServerContext* context,
                                         const v1::FailJobRequest* request,
                                         v1::FailJobResponse* response) {
  if (grpc::Status denied = auth_->Check(*context); !denied.ok()) {
    return denied;
  }
  absl::StatusOr<FailOutcome> outcome =
      queue_->Fail(request->lease_id(), request->epoch(), request->result(),
                   request->retryable());
  if (!outcome.ok()) return ToGrpcStatus(outcome.status());
  response->set_accepted(outcome->accepted);
  response->set_will_retry(outcome->will_retry);
  if (outcome->accepted) {
    LogWarning("job ", request->result().job_id(), " failed on ",
               request->result().node_id(), ": ", request->result().error(),
               outcome->will_retry ? " (will retry)" : " (giving up)");
  }
  return grpc::Status::OK;
}

grpc::Status CoordinatorService::ReleaseLease(
    grpc::ServerContext* context, const v1::ReleaseLeaseRequest* request,
    v1::ReleaseLeaseResponse*) {
  if (grpc::Status denied = auth_->Check(*context); !denied.ok()) {
    return denied;
  }
  return ToGrpcStatus(queue_->Release(request->lease_id(), request->epoch()));
}

grpc::Status CoordinatorService::Rendezvous(
    grpc::ServerContext* context, const v1::RendezvousRequest* request,
    v1::RendezvousResponse* response) {
  if (grpc::Status denied = auth_->Check(*context); !denied.ok()) {
    return denied;
  }
  if (rendezvous_ == nullptr) {
    return grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                        "this coordinator has no rendezvous table");
  }
  absl::StatusOr<std::optional<std::string>> value = rendezvous_->Meet(
      request->group(), request->rank(), request->size(), request->value(),
      absl::Milliseconds(request->wait_ms()));
  if (!value.ok()) return ToGrpcStatus(value.status());
  response->set_ready(value->has_value());
  if (value->has_value()) response->set_value(**std::move(value));
  return grpc::Status::OK;
}

}  // namespace reelfarm
