#ifndef REELFARM_CLI_SIGNALS_H_
#define REELFARM_CLI_SIGNALS_H_

#include <functional>
#include <thread>

namespace reelfarm::cli {

// Routes SIGTERM, SIGINT and SIGUSR2 (SLURM's pre-timeout warning, see
// --signal) to SignalWatcher instead of killing the process. A handler that
// writes to a pipe works whatever threads libraries started before main
// (OpenBLAS starts its pool at load time), which a signal mask would not.
// Call first thing in a command.
void BlockShutdownSignals();

// A thread that waits for one of those signals and calls `on_signal` with
// it. Stop() ends it without a signal.
class SignalWatcher {
 public:
  explicit SignalWatcher(std::function<void(int)> on_signal);
  ~SignalWatcher();
  void Stop();

 private:
  std::thread thread_;
};

}  // namespace reelfarm::cli

#endif  // REELFARM_CLI_SIGNALS_H_
