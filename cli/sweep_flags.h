#ifndef REELFARM_CLI_SWEEP_FLAGS_H_
#define REELFARM_CLI_SWEEP_FLAGS_H_

#include <string>

#include "absl/status/statusor.h"
#include "cli/flags.h"
#include "reelfarm/v1/sweep.pb.h"
#include "sweep/sweep_loader.h"

namespace reelfarm::cli {

// The flags that shape a sweep when it is loaded (`run` and `submit`):
// --out, --renderer and animate.py's --pretrained-model-path,
// --inference-config, --W, --H, --L.
class SweepFlags {
 public:
  void Register(FlagSet& flags);
  // Loads the config and prints its warnings to stderr.
  absl::StatusOr<v1::SweepSpec> Load(const std::string& path) const;

 private:
  config::LoadOptions options_;
};

}  // namespace reelfarm::cli

#endif  // REELFARM_CLI_SWEEP_FLAGS_H_
