#include "coordinator/metrics/metrics_endpoint.h"

#include "coordinator/metrics/metrics_http_server.h"

namespace reelfarm {

absl::StatusOr<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::Start(
    const std::string& listen_address, const CoordinatorMetrics* metrics) {
  absl::StatusOr<std::unique_ptr<MetricsHttpServer>> http =
      MetricsHttpServer::Start(listen_address,
                               [metrics] { return metrics->Render(); });
  if (!http.ok()) return http.status();
  std::unique_ptr<MetricsEndpoint> endpoint(new MetricsEndpoint());
  endpoint->http_ = *std::move(http);
  return endpoint;
}

MetricsEndpoint::~MetricsEndpoint() = default;

const std::string& MetricsEndpoint::address() const { return http_->address(); }

}  // namespace reelfarm
