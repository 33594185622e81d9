#include "coordinator/metrics/metrics_http_server.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"

namespace reelfarm {
namespace {

std::string Response(absl::string_view status, absl::string_view content_type,
                     absl::string_view body,
                     absl::string_view extra_headers = "") {
  return absl::StrCat("HTTP/1.1 ", status, "\r\nContent-Type: ", content_type,
                      "\r\nContent-Length: ", body.size(), "\r\n",
                      extra_headers, "Connection: close\r\n\r\n", body);
}

std::string Error(absl::string_view status) {
  return Response(status, "text/plain; charset=utf-8",
                  absl::StrCat(status, "\n"));
}

// Where the request's headers end (just past the blank line), or npos.
size_t HeadersEnd(const std::string& in) {
  const size_t crlf = in.find("\r\n\r\n");
  const size_t lf = in.find("\n\n");
  if (crlf == std::string::npos && lf == std::string::npos) {
    return std::string::npos;
  }
  return crlf < lf ? crlf + 4 : lf + 2;
}

absl::Status ErrnoError(absl::string_view what) {
  return absl::UnavailableError(absl::StrCat(what, ": ", std::strerror(errno)));
}

// A listening, non-blocking socket on host:port.
absl::StatusOr<int> Listen(const std::string& address, int* port) {
  const size_t colon = address.rfind(':');
  uint32_t wanted = 0;
  if (colon == std::string::npos ||
      !absl::SimpleAtoi(address.substr(colon + 1), &wanted) || wanted > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        "metrics address '", address, "' is not HOST:PORT (port 0: any)"));
  }
  std::string host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(wanted);
  if (int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(),
                           service.c_str(), &hints, &found);
      rc != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("metrics address '", address, "': ", gai_strerror(rc)));
  }
  absl::Status last = absl::UnavailableError("no address to listen on");
  int fd = -1;
  for (addrinfo* ai = found; ai != nullptr && fd < 0; ai = ai->ai_next) {
    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                ai->ai_protocol);
    if (fd < 0) {
      last = ErrnoError("socket");
      continue;
    }
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 64) != 0) {
      last = ErrnoError(absl::StrCat("cannot listen on ", address));
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(found);
  if (fd < 0) return last;
  sockaddr_storage bound{};
  socklen_t len = sizeof(bound);
  getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
  *port = bound.ss_family == AF_INET6
              ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
              : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  return fd;
}

struct Connection {
  int fd;
  absl::Time deadline;
  std::string in;
  std::string out;  // set once the response is ready
  size_t sent = 0;
};

}  // namespace

std::string MetricsHttpResponse(const std::string& request,
                                const std::function<std::string()>& render) {
  if (request.size() > MetricsHttpServer::kMaxRequestBytes) {
    return Error("431 Request Header Fields Too Large");
  }
  const std::string line = request.substr(0, request.find_first_of("\r\n"));
  const std::vector<std::string> parts = absl::StrSplit(line, ' ');
  if (parts.size() != 3 || parts[2].rfind("HTTP/1.", 0) != 0 ||
      parts[1].empty() || parts[1][0] != '/') {
    return Error("400 Bad Request");
  }
  if (parts[0] != "GET") {
    return Response("405 Method Not Allowed", "text/plain; charset=utf-8",
                    "405 Method Not Allowed\n", "Allow: GET\r\n");
  }
  if (parts[1].substr(0, parts[1].find('?')) != "/metrics") {
    return Error("404 Not Found");
  }
  return Response("200 OK", "text/plain; version=0.0.4; charset=utf-8",
                  render());
}

absl::StatusOr<std::unique_ptr<MetricsHttpServer>> MetricsHttpServer::Start(
    const std::string& listen_address, std::function<std::string()> render) {
  std::unique_ptr<MetricsHttpServer> s(new MetricsHttpServer());
  s->render_ = std::move(render);
  absl::StatusOr<int> fd = Listen(listen_address, &s->port_);
  if (!fd.ok()) return fd.status();
  s->listen_fd_ = *fd;
  if (pipe2(s->wake_fds_, O_CLOEXEC | O_NONBLOCK) != 0) {
    return ErrnoError("pipe");
  }
  s->address_ = absl::StrCat(
      listen_address.substr(0, listen_address.rfind(':')), ":", s->port_);
  s->thread_ = std::thread([raw = s.get()] { raw->Serve(); });
  return s;
}

MetricsHttpServer::~MetricsHttpServer() {
  Stop();
  if (listen_fd_ >= 0) close(listen_fd_);
  for (int fd : wake_fds_) {
    if (fd >= 0) close(fd);
  }
}

void MetricsHttpServer::Stop() {
  if (!thread_.joinable()) return;
  const char byte = 0;
  while (write(wake_fds_[1], &byte, 1) < 0 && errno == EINTR) {
  }
  thread_.join();
}

void MetricsHttpServer::Serve() {
  std::vector<Connection> conns;
  std::vector<pollfd> fds;
  for (;;) {
    fds.clear();
    fds.push_back({wake_fds_[0], POLLIN, 0});
    // At the connection limit new clients wait in the backlog.
    fds.push_back(
        {listen_fd_,
         static_cast<short>(conns.size() < kMaxConnections ? POLLIN : 0), 0});
    absl::Time next = absl::InfiniteFuture();
    for (const Connection& c : conns) {
      fds.push_back(
          {c.fd, static_cast<short>(c.out.empty() ? POLLIN : POLLOUT), 0});
      next = std::min(next, c.deadline);
    }
    int timeout_ms = -1;
    if (next != absl::InfiniteFuture()) {
      timeout_ms = static_cast<int>(std::clamp<int64_t>(
          absl::ToInt64Milliseconds(next - absl::Now()) + 1, 0, 60'000));
    }
    if (poll(fds.data(), fds.size(), timeout_ms) < 0 && errno != EINTR) break;
    if (fds[0].revents != 0) break;
    const absl::Time now = absl::Now();

    std::vector<bool> done(conns.size(), false);
    for (size_t i = 0; i < conns.size(); ++i) {
      Connection& c = conns[i];
      const short revents = fds[i + 2].revents;
      if (c.out.empty() && (revents & (POLLIN | POLLHUP | POLLERR))) {
        char buf[4096];
        const ssize_t n = recv(c.fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n > 0) {
          c.in.append(buf, static_cast<size_t>(n));
          const size_t end = HeadersEnd(c.in);
          if (end != std::string::npos) {
            c.out = MetricsHttpResponse(c.in.substr(0, end), render_);
          } else if (c.in.size() > kMaxRequestBytes) {
            c.out = MetricsHttpResponse(c.in, render_);  // 431
          }
        } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
          done[i] = true;  // gone before finishing its request
          continue;
        }
      } else if (!c.out.empty() && (revents & (POLLERR | POLLHUP))) {
        done[i] = true;
        continue;
      }
      if (!c.out.empty()) {
        const ssize_t n =
            send(c.fd, c.out.data() + c.sent, c.out.size() - c.sent,
                 MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n > 0) c.sent += static_cast<size_t>(n);
        if (c.sent == c.out.size() ||
            (n < 0 && errno != EAGAIN && errno != EINTR)) {
          done[i] = true;
          continue;
        }
      }
      if (now >= c.deadline) done[i] = true;  // too slow: drop it
    }
    std::vector<Connection> kept;
    for (size_t i = 0; i < conns.size(); ++i) {
      if (!done[i]) {
        kept.push_back(std::move(conns[i]));
        continue;
      }
      shutdown(conns[i].fd, SHUT_WR);
      close(conns[i].fd);
    }
    conns.swap(kept);

    if (fds[1].revents & POLLIN) {
      while (conns.size() < kMaxConnections) {
        const int fd =
            accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) break;
        conns.push_back({fd, now + kConnectionDeadline, "", "", 0});
      }
    }
  }
  for (Connection& c : conns) close(c.fd);
}

}  // namespace reelfarm
