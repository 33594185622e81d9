#ifndef REELFARM_COORDINATOR_MANIFEST_OUTPUT_VERIFIER_H_
#define REELFARM_COORDINATOR_MANIFEST_OUTPUT_VERIFIER_H_

#include <string>

#include "absl/status/status.h"
#include "reelfarm/v1/coordinator.pb.h"

namespace reelfarm {

// Whether a finished job's files are still what its result recorded. A job
// counts as finished only while they are.
class OutputVerifier {
 public:
  virtual ~OutputVerifier() = default;

  // OK when every file of `result` is under `output_dir` with its recorded
  // size and sha256; NotFound or DataLoss naming the first one that is not.
  virtual absl::Status Verify(const std::string& output_dir,
                              const v1::JobResult& result) = 0;

  // Makes the files of `result`, published under `from_dir`, appear under
  // `to_dir` at the same relative paths (hard links where the filesystem
  // allows, copies elsewhere), as one unit: all of the job's folder or none.
  // A folder already there is verified instead.
  virtual absl::Status Adopt(const std::string& from_dir,
                             const std::string& to_dir,
                             const v1::JobResult& result) = 0;

  // Moves the job's folder under `output_dir` aside (into .discarded/), so
  // that the job can be published again: publication never replaces a
  // folder that is there. Nothing is deleted. OK when there is none.
  virtual absl::Status Discard(const std::string& output_dir,
                               const v1::JobResult& result) = 0;
};

// Reads the files on the coordinator's filesystem (the nodes' output folder,
// shared).
class FileOutputVerifier : public OutputVerifier {
 public:
  absl::Status Verify(const std::string& output_dir,
                      const v1::JobResult& result) override;
  absl::Status Adopt(const std::string& from_dir, const std::string& to_dir,
                     const v1::JobResult& result) override;
  absl::Status Discard(const std::string& output_dir,
                       const v1::JobResult& result) override;
};

}  // namespace reelfarm

#endif  // REELFARM_COORDINATOR_MANIFEST_OUTPUT_VERIFIER_H_
