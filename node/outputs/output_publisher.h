#ifndef REELFARM_NODE_OUTPUTS_OUTPUT_PUBLISHER_H_
#define REELFARM_NODE_OUTPUTS_OUTPUT_PUBLISHER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "node/renderers/renderer.h"
#include "reelfarm/v1/coordinator.pb.h"

namespace reelfarm {

// A1111's infotext for a job ("prompt\nNegative prompt: ...\nSteps: ...").
std::string InfoText(const v1::Job& job);

// What WriteJobFiles wrote: file names relative to its folder, and what it
// left out with the reason (e.g. mp4 on a node without ffmpeg).
struct JobFiles {
  std::vector<std::string> names;
  std::vector<std::string> warnings;
};

// Writes the job's formats (job.formats(); none means frames) into `dir`
// (which exists and is empty), each file fsynced. An mp4 needs the ffmpeg
// program (FindFfmpeg); without it the other formats are still written and
// a warning names what is missing, since the frames are the lossless record
// and an mp4 can be made from them later. A failing encoder is an error.
absl::StatusOr<JobFiles> WriteJobFiles(const v1::Job& job, const Video& video,
                                       const std::string& dir);

struct PublishedOutputs {
  std::vector<v1::OutputFile> files;
  std::vector<std::string> warnings;
};

// Publishes a job's outputs as one unit: files are written and fsynced in a
// staging folder under <output_dir>/.staging, which is then renamed to
// <output_dir>/<output_name>. If that folder already exists another attempt
// published first, and its files stand: the first publication wins, so a
// recorded sha256 never changes under a reader. Returns the published files
// (paths relative to the output folder) with their sha256, and this
// attempt's warnings. An output name that is not one safe component (see
// PathInside) is InvalidArgument and nothing is written.
absl::StatusOr<PublishedOutputs> PublishJobOutputs(const v1::Job& job,
                                                   const Video& video);

}  // namespace reelfarm

#endif  // REELFARM_NODE_OUTPUTS_OUTPUT_PUBLISHER_H_
