#ifndef REELFARM_TESTS_NODE_COMM_PROBE_LIB_H_
#define REELFARM_TESTS_NODE_COMM_PROBE_LIB_H_

#include <torch/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "node/pipeline/comm/communicator.h"

// What comm_probe computes, shared with the test that checks it: the same
// collectives on inputs fixed by rank, in a child process over sockets or
// in threads over InProcessCommunicator.
namespace reelfarm::comm_probe {

// Rank `rank`'s inputs: float32 and float64, several shapes (an empty one
// too), from a generator seeded by the rank. Thread-safe.
std::vector<torch::Tensor> Inputs(int rank);

// Runs all-reduce, all-gather and broadcast on every input, then a
// barrier; one line per result, "result <i> <dtype> <sha256 of bytes>".
absl::StatusOr<std::vector<std::string>> Run(
    pipeline::comm::Communicator& comm,
    const std::vector<torch::Tensor>& inputs);

}  // namespace reelfarm::comm_probe

#endif  // REELFARM_TESTS_NODE_COMM_PROBE_LIB_H_
