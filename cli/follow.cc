#include "cli/follow.h"

#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/log.h"
#include "rpc/grpc_status.h"

namespace reelfarm::cli {

std::unique_ptr<v1::Coordinator::Stub> Connect(const std::string& address,
                                               const ClientSecurity& security) {
  return v1::Coordinator::NewStub(CoordinatorChannel(address, security));
}

absl::StatusOr<v1::SweepStatus> FollowSweep(v1::Coordinator::Stub& stub,
                                            const std::string& sweep_id,
                                            ProgressPrinter& printer,
                                            grpc::ClientContext* context) {
  v1::WatchSweepRequest request;
  request.set_sweep_id(sweep_id);
  std::unique_ptr<grpc::ClientReader<v1::WatchSweepEvent>> reader =
      stub.WatchSweep(context, request);
  // Events come only as jobs finish; the ticker moves the rate, the ETA and
  // the periodic plain lines along in between.
  std::mutex mu;
  std::condition_variable cv;
  bool stop = false;
  std::thread ticker([&] {
    std::unique_lock<std::mutex> lock(mu);
    while (!cv.wait_for(lock, std::chrono::seconds(1), [&] { return stop; })) {
      lock.unlock();
      printer.Tick();
      lock.lock();
    }
  });
  v1::WatchSweepEvent event;
  v1::SweepStatus last;
  while (reader->Read(&event)) {
    last = event.sweep();
    printer.Update(last, event.has_job() ? &event.job() : nullptr);
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    stop = true;
  }
  cv.notify_all();
  ticker.join();
  if (absl::Status st = FromGrpcStatus(reader->Finish()); !st.ok()) return st;
  printer.Finish(last);
  return last;
}

std::string SubmitSummary(const v1::SubmitSweepResponse& r) {
  std::string out =
      absl::StrCat(r.jobs(), " jobs, ", r.already_done(), " already done");
  if (r.reused() > 0) {
    absl::StrAppend(&out, " (", r.reused(), " from earlier sweeps)");
  }
  if (r.requeued() > 0)
    absl::StrAppend(&out, ", ", r.requeued(), " queued again");
  return out;
}

int Fail(const std::string& command, const absl::Status& status) {
  // The coordinator's message says what was wrong with the credentials.
  const char* cause = status.code() == absl::StatusCode::kUnauthenticated
                          ? "not authenticated: "
                          : "";
  std::fprintf(stderr, "reelfarm %s: %s%s\n", command.c_str(), cause,
               std::string(status.message()).c_str());
  return ExitCodeFor(status);
}

SqliteStateStoreOptions ExitOnSyncFailure(const std::string& command) {
  SqliteStateStoreOptions options;
  options.on_sync_failure = [command](const absl::Status& status) {
    LogError(command, ": the state could not be flushed to disk (",
             status.ToString(),
             "); stopping without acknowledging anything more. Start it "
             "again to carry on from what the disk holds.");
    std::_Exit(kExitFailure);
  };
  return options;
}

}  // namespace reelfarm::cli
