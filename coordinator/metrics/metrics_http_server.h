#ifndef REELFARM_COORDINATOR_METRICS_METRICS_HTTP_SERVER_H_
#define REELFARM_COORDINATOR_METRICS_METRICS_HTTP_SERVER_H_

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace reelfarm {

// A minimal HTTP/1.1 server for Prometheus scrapes: GET /metrics answers
// 200 with `render()`'s text; any other path 404, another method 405, a
// malformed request 400, one over kMaxRequestBytes 431. Every connection
// is closed after one response.
//
// One thread multiplexes the listening socket and every connection with
// poll(), without blocking I/O: a client that sends slowly, sends garbage
// or never reads holds only its own connection, which is dropped after
// kConnectionDeadline. `render` runs on that thread.
class MetricsHttpServer {
 public:
  static constexpr size_t kMaxRequestBytes = 8192;
  static constexpr size_t kMaxConnections = 64;
  static constexpr absl::Duration kConnectionDeadline = absl::Seconds(10);

  // Listens on "host:port" (an IPv4 address or a name; port 0: the OS
  // chooses) and starts serving.
  static absl::StatusOr<std::unique_ptr<MetricsHttpServer>> Start(
      const std::string& listen_address, std::function<std::string()> render);
  ~MetricsHttpServer();

  // "host:port" with the port actually bound.
  const std::string& address() const { return address_; }
  int port() const { return port_; }

  // Closes every connection and the listening socket. Safe to call twice.
  void Stop();

 private:
  MetricsHttpServer() = default;
  void Serve();

  std::function<std::string()> render_;
  int listen_fd_ = -1;
  int wake_fds_[2] = {-1, -1};  // a write to [1] ends Serve
  std::string address_;
  int port_ = 0;
  std::thread thread_;
};

// The response to one request (the bytes up to and including the blank
// line that ends its headers), with Connection: close.
std::string MetricsHttpResponse(const std::string& request,
                                const std::function<std::string()>& render);

}  // namespace reelfarm

#endif  // REELFARM_COORDINATOR_METRICS_METRICS_HTTP_SERVER_H_
