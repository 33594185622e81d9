#ifndef REELFARM_NODE_OUTPUTS_PIPED_PROCESS_H_
#define REELFARM_NODE_OUTPUTS_PIPED_PROCESS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace reelfarm {

// Runs argv[0] (an absolute path; no shell, so arguments are never
// interpreted) with `input` written to its stdin in order, stdout discarded
// and stderr kept. Ok when it exits 0; otherwise an Internal error naming
// the program, how it ended and the tail of its stderr.
absl::Status RunWithInput(const std::vector<std::string>& argv,
                          const std::vector<absl::string_view>& input);

}  // namespace reelfarm

#endif  // REELFARM_NODE_OUTPUTS_PIPED_PROCESS_H_
