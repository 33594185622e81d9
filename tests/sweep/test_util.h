#ifndef REELFARM_TESTS_SWEEP_TEST_UTIL_H_
#define REELFARM_TESTS_SWEEP_TEST_UTIL_H_

#include <cstdint>
#include <filesystem>
#include <string>

#include "absl/status/status.h"
#include "sweep/sweep_loader.h"
#include "gtest/gtest.h"
#include "reelfarm/v1/sweep.pb.h"

namespace reelfarm::config::testing_util {

// A fresh folder under testing::TempDir(), removed when the test ends.
class ScratchDir {
 public:
  ScratchDir();
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::string& path() const { return path_; }
  // Writes `content` to path()/relative (creating folders); returns the
  // absolute path.
  std::string Write(const std::string& relative,
                    const std::string& content = "weights") const;

 private:
  std::string path_;
};

// Changes the working directory for its lifetime: AnimateDiff's relative
// model paths resolve against it.
class ScopedCwd {
 public:
  explicit ScopedCwd(const std::string& dir);
  ~ScopedCwd();

 private:
  std::filesystem::path previous_;
};

// tests/sweep/data/<name>.
std::string DataPath(const std::string& name);
std::string ReadData(const std::string& name);

// Options for tests that do not look at model files, with draws that count
// up from `first_seed`.
LoadOptions NoModelCheck(uint64_t first_seed = 1000);

// Model files every AnimateDiff test config names, plus animate.py's
// default SD folder and inference config, under `dir`.
void WriteAnimateDiffModels(const ScratchDir& dir);

// The job count SweepExpander gives (fails the test on an expander error).
uint64_t JobCount(const v1::SweepSpec& spec);

// Checks `status` is `code` and its message starts with `prefix` (the
// "file:line:col: field" part) and contains `fragment`.
::testing::AssertionResult ErrorIs(const absl::Status& status,
                                   absl::StatusCode code,
                                   const std::string& prefix,
                                   const std::string& fragment = "");

}  // namespace reelfarm::config::testing_util

#endif  // REELFARM_TESTS_SWEEP_TEST_UTIL_H_
