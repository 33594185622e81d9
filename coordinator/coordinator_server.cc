#include "coordinator/coordinator_server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/server_builder.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "coordinator/lease_queue_gauges.h"

namespace reelfarm {

absl::StatusOr<std::unique_ptr<CoordinatorServer>> CoordinatorServer::Start(
    CoordinatorOptions options, std::unique_ptr<StateStore> store) {
  if (absl::Status st = CheckServerSecurity(options.security); !st.ok()) {
    return st;
  }
  std::unique_ptr<CoordinatorServer> s(new CoordinatorServer());
  if (options.clock == nullptr) options.clock = Clock::Real();
  if (options.queue.verifier == nullptr) {
    options.queue.verifier = &s->verifier_;
  }
  s->metrics_ = std::make_unique<CoordinatorMetrics>(options.clock);
  options.queue.metrics = s->metrics_.get();
  s->options_ = options;
  s->store_ = store ? std::move(store) : std::make_unique<NullStateStore>();
  s->queue_ = std::make_unique<LeaseQueue>(s->store_.get(), options.clock,
                                           options.queue);
  if (absl::Status st = s->queue_->Recover(); !st.ok()) return st;
  s->manifests_ = std::make_unique<ManifestPublisher>(
      s->queue_.get(), options.manifest_interval);
  s->metrics_->AddCollectable(LeaseQueueGauges(s->queue_.get()));
  s->waiters_ =
      std::make_unique<LeaseWaiters>(s->queue_.get(), s->metrics_.get());
  s->auth_ = std::make_unique<TokenAuthenticator>(options.security.token);
  s->rendezvous_ = std::make_unique<RendezvousTable>(options.clock);
  s->service_ = std::make_unique<CoordinatorService>(
      s->queue_.get(), s->manifests_.get(), s->waiters_.get(),
      options.max_lease_wait, s->auth_.get(), s->metrics_.get(),
      s->rendezvous_.get());

  if (!options.metrics_listen.empty()) {
    absl::StatusOr<std::unique_ptr<MetricsEndpoint>> endpoint =
        MetricsEndpoint::Start(options.metrics_listen, s->metrics_.get());
    if (!endpoint.ok()) return endpoint.status();
    s->metrics_endpoint_ = *std::move(endpoint);
  }

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.listen_address,
                           ServerCredentialsFor(options.security), &s->port_);
  if (s->auth_->enabled()) builder.SetOption(WithoutReflection());
  builder.RegisterService(s->service_.get());

  s->server_ = builder.BuildAndStart();
  if (s->server_ == nullptr || s->port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options.listen_address));
  }
  const std::string host =
      options.listen_address.substr(0, options.listen_address.rfind(':'));
  s->address_ = absl::StrCat(host, ":", s->port_);
  s->manifests_->Start();
  s->expiry_thread_ = std::thread([raw = s.get()] { raw->ExpiryLoop(); });
  LogInfo("coordinator listening on ", s->address_);
  if (s->metrics_endpoint_) {
    LogInfo("metrics on http://", s->metrics_endpoint_->address(), "/metrics");
  }
  return s;
}

CoordinatorServer::~CoordinatorServer() { Shutdown(); }

void CoordinatorServer::ExpiryLoop() {
  // Checking four times per lease lifetime bounds how late an expiry is seen.
  const absl::Duration period = std::clamp(
      options_.queue.lease_ttl / 4, absl::Milliseconds(10), absl::Seconds(1));
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, absl::ToChronoNanoseconds(period));
    if (stopping_) break;
    lock.unlock();
    const int expired = queue_->ExpireLeases();
    if (expired > 0) LogWarning(expired, " lease(s) expired; jobs re-queued");
    lock.lock();
  }
}

void CoordinatorServer::Shutdown(absl::Duration grace) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) {
      // Asked again while waiting for leases: stop waiting.
      if (queue_) queue_->StopWaitingForLeases();
      return;
    }
    stopping_ = true;
  }
  cv_.notify_all();
  // Any of these is absent when Start failed part way (a state file that
  // cannot be read, a port in use).
  if (service_) service_->SetDraining();
  // Long polls return at once; then in-flight calls get `grace` to finish.
  if (queue_) queue_->Shutdown();
  if (waiters_) waiters_->Shutdown();
  if (queue_ && options_.lease_grace > absl::ZeroDuration()) {
    LogInfo("no new leases; waiting up to ",
            absl::FormatDuration(options_.lease_grace),
            " for nodes to report the jobs they hold");
    if (!queue_->WaitForLeasesToEnd(options_.lease_grace)) {
      LogWarning(
          "stopping with leases outstanding: their jobs go back to the "
          "queue when they expire");
    }
  }
  // Groups still meet during the lease grace: their renders hold leases.
  if (rendezvous_) rendezvous_->Shutdown();
  if (server_) {
    server_->Shutdown(std::chrono::system_clock::now() +
                      absl::ToChronoNanoseconds(grace));
  }
  if (expiry_thread_.joinable()) expiry_thread_.join();
  metrics_endpoint_.reset();
  if (manifests_) manifests_->Stop();
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_ = true;
  }
  cv_.notify_all();
  LogInfo("coordinator stopped");
}

void CoordinatorServer::Wait() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return stopped_; });
}

}  // namespace reelfarm
