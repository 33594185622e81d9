#ifndef REELFARM_COORDINATOR_MANIFEST_MANIFEST_H_
#define REELFARM_COORDINATOR_MANIFEST_MANIFEST_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "reelfarm/v1/coordinator.pb.h"

namespace reelfarm {

inline constexpr char kManifestFile[] = "manifest.json";
inline constexpr char kMetadataFile[] = "metadata.jsonl";

// manifest.json: the sweep, the models it uses (with digests), and every job
// with its status, parameters, files (sha256), node and timings.
std::string RenderManifestJson(const v1::SweepStatus& sweep,
                               const std::vector<v1::JobStatus>& jobs);

// metadata.jsonl: one line per output file of a finished job, with
// `file_name` relative to the output folder and the job's parameters, so the
// folder loads as a Hugging Face imagefolder/videofolder dataset.
std::string RenderMetadataJsonl(const std::vector<v1::JobStatus>& jobs);

// Writes both into the sweep's output folder, each atomically.
absl::Status WriteManifest(const v1::SweepStatus& sweep,
                           const std::vector<v1::JobStatus>& jobs);

// Lowercase name of a job state as the manifest spells it ("done", ...).
std::string JobStateName(v1::JobState state);
std::string SweepStateName(v1::SweepState state);

}  // namespace reelfarm

#endif  // REELFARM_COORDINATOR_MANIFEST_MANIFEST_H_
