#include "cli/signals.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

namespace reelfarm::cli {
namespace {

int pipe_fds[2] = {-1, -1};
constexpr unsigned char kStopWatcher = 0;

void OnSignal(int sig) {
  const int saved = errno;
  const unsigned char byte = static_cast<unsigned char>(sig);
  // Async-signal-safe; a full pipe just drops a repeated signal.
  (void)!write(pipe_fds[1], &byte, 1);
  errno = saved;
}

}  // namespace

void BlockShutdownSignals() {
  if (pipe_fds[0] >= 0) return;
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) std::abort();
  struct sigaction action = {};
  action.sa_handler = &OnSignal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  for (int sig : {SIGTERM, SIGINT, SIGUSR2}) sigaction(sig, &action, nullptr);
}

SignalWatcher::SignalWatcher(std::function<void(int)> on_signal) {
  BlockShutdownSignals();
  thread_ = std::thread([on_signal = std::move(on_signal)] {
    unsigned char byte = 0;
    while (true) {
      const ssize_t n = read(pipe_fds[0], &byte, 1);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0 || byte == kStopWatcher) return;
      on_signal(byte);
      return;
    }
  });
}

SignalWatcher::~SignalWatcher() { Stop(); }

void SignalWatcher::Stop() {
  if (!thread_.joinable()) return;
  const unsigned char byte = kStopWatcher;
  (void)!write(pipe_fds[1], &byte, 1);
  thread_.join();
}

}  // namespace reelfarm::cli
