#ifndef REELFARM_NODE_OUTPUT_PUBLISHER_H_
#define REELFARM_NODE_OUTPUT_PUBLISHER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "node/renderer.h"
#include "reelfarm/v1/coordinator.pb.h"

namespace reelfarm {

// A1111's infotext for a job ("prompt\nNegative prompt: ...\nSteps: ...").
std::string InfoText(const v1::Job& job);

// Writes the job's formats into `dir` (which exists and is empty); returns
// the file names written, relative to `dir`.
absl::StatusOr<std::vector<std::string>> WriteJobFiles(const v1::Job& job,
                                                       const Video& video,
                                                       const std::string& dir);

// Publishes a job's outputs as one unit: files are written and fsynced in a
// staging folder under <output_dir>/.staging, which is then renamed to
// <output_dir>/<output_name>. If that folder already exists another attempt
// published first, and its files stand: the first publication wins, so a
// recorded sha256 never changes under a reader. Returns the published files
// (paths relative to the output folder) with their sha256. An output name
// that is not one safe component (see PathInside) is InvalidArgument and
// nothing is written.
absl::StatusOr<std::vector<v1::OutputFile>> PublishJobOutputs(
    const v1::Job& job, const Video& video);

}  // namespace reelfarm

#endif  // REELFARM_NODE_OUTPUT_PUBLISHER_H_
