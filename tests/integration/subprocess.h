#ifndef REELFARM_TESTS_INTEGRATION_SUBPROCESS_H_
#define REELFARM_TESTS_INTEGRATION_SUBPROCESS_H_

#include <sys/types.h>

#include <string>
#include <vector>

namespace reelfarm::testing_process {

// A child process running a real binary, with its stdout (and, with
// `merge_stderr`, its stderr too) on a pipe.
class Subprocess {
 public:
  explicit Subprocess(const std::vector<std::string>& argv,
                      bool merge_stderr = false);
  ~Subprocess();  // SIGKILLs a child still running
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  // Blocks until the child prints a full line; "" at end of output.
  std::string ReadLine();
  // Everything the child prints until it closes its output.
  std::string ReadAll();
  void Signal(int sig);
  // Waits for exit; returns the exit code, or 128+signal.
  int Wait();
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::string buffer_;
  bool exited_ = false;
  int status_ = 0;
};

}  // namespace reelfarm::testing_process

#endif  // REELFARM_TESTS_INTEGRATION_SUBPROCESS_H_
