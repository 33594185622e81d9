#ifndef REELFARM_COORDINATOR_METRICS_METRICS_ENDPOINT_H_
#define REELFARM_COORDINATOR_METRICS_METRICS_ENDPOINT_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "coordinator/metrics/coordinator_metrics.h"

namespace reelfarm {

class MetricsHttpServer;

// Serves a CoordinatorMetrics' families at GET /metrics in the text
// exposition format prometheus-cpp writes.
//
// Not prometheus-cpp's pull exposer: its civetweb server does not start in
// a process that also loads Debian's libtorch 1.13 (mg_start returns no
// context, whatever the address; the same program without libtorch
// starts). The node and `reelfarm run` load libtorch, so the coordinator
// serves through MetricsHttpServer, a small poll() loop of its own.
class MetricsEndpoint {
 public:
  // Listens on "host:port" (an IPv4 address or a name; port 0: the OS
  // chooses). `metrics` must outlive the endpoint.
  static absl::StatusOr<std::unique_ptr<MetricsEndpoint>> Start(
      const std::string& listen_address, const CoordinatorMetrics* metrics);
  ~MetricsEndpoint();

  // "host:port" with the port actually bound.
  const std::string& address() const;

 private:
  MetricsEndpoint() = default;

  std::unique_ptr<MetricsHttpServer> http_;
};

}  // namespace reelfarm

#endif  // REELFARM_COORDINATOR_METRICS_METRICS_ENDPOINT_H_
