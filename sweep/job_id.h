#ifndef REELFARM_SWEEP_JOB_ID_H_
#define REELFARM_SWEEP_JOB_ID_H_

#include <string>

#include "absl/strings/string_view.h"
#include "reelfarm/v1/sweep.pb.h"

namespace reelfarm {

// The bytes a job id hashes: every parameter that changes the pixels, the
// model digests (not their paths: moving a checkpoint keeps the ids), and the
// renderer. Fixed field order and explicit lengths make it stable across
// protobuf versions, which proto serialization does not promise.
std::string CanonicalRenderBytes(const v1::RenderParams& params,
                                 absl::string_view renderer);

// 24 hex characters (96 bits) of SHA-256 over CanonicalRenderBytes.
std::string JobIdFor(const v1::RenderParams& params,
                     absl::string_view renderer);

// A folder name for a job's outputs: a slug of the prompt (ASCII letters,
// digits and '-', at most 40 characters) and the id's first 12 characters.
// It can never leave the output folder or collide between different ids.
std::string JobOutputName(const v1::RenderParams& params,
                          absl::string_view job_id);

}  // namespace reelfarm

#endif  // REELFARM_SWEEP_JOB_ID_H_
