#ifndef REELFARM_NODE_PIPELINE_WEIGHTS_CHECKPOINT_H_
#define REELFARM_NODE_PIPELINE_WEIGHTS_CHECKPOINT_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "node/pipeline/weights/restricted_unpickler.h"
#include "node/pipeline/weights/tensor_map.h"

namespace reelfarm::pipeline {

// An entry of a checkpoint's dict that did not become a tensor of the map:
// training metadata (epoch, global_step), configs such as AnimateDiff v3's
// animatediff_config, integer tensors (e.g. position_ids), lists.
struct SkippedKey {
  std::string key;
  std::string reason;
};

// Loads a torch.save zip archive (.ckpt, .pt, .pth, .bin) without Python and
// without running its pickle (see restricted_unpickler.h for what it may
// contain) into a flat map of float32 contiguous CPU tensors:
//  - nested {"state_dict": {...}} wrappers are unwrapped (their siblings are
//    skipped), nested dicts of tensors are flattened with '.', and a
//    "module." prefix on every key (DataParallel) is removed;
//  - floating-point tensors of any storage type become float32; integer and
//    bool tensors, and every non-tensor entry, are left out and listed in
//    `*skipped` when it is given.
absl::StatusOr<TensorMap> LoadCheckpoint(
    const std::string& path, std::vector<SkippedKey>* skipped = nullptr);

// The same for an archive image held in memory; `source` names it in errors.
absl::StatusOr<TensorMap> ParseCheckpoint(
    absl::string_view bytes, const std::string& source,
    std::vector<SkippedKey>* skipped = nullptr);

// The flattening and float32 conversion applied to an unpickled data.pkl.
absl::StatusOr<TensorMap> StateDictFromPickle(
    const PickleResult& pickle, const std::string& source,
    std::vector<SkippedKey>* skipped = nullptr);

enum class WeightsFormat {
  kSafetensors,  // 8-byte little-endian header length, then '{'
  kTorchZip,     // "PK\3\4": torch.save since 1.6
  kLegacyTorch,  // a bare pickle or tar: torch.save before 1.6
  kUnknown,
};

// Recognizes a weights file by its first bytes; `size` is the file size.
WeightsFormat DetectWeightsFormat(absl::string_view head, uint64_t size);

// Loads safetensors or a torch zip checkpoint, whichever `path` holds (by
// content, not by extension). Anything else is an error that says how to
// convert it.
absl::StatusOr<TensorMap> LoadWeightsFile(
    const std::string& path, std::vector<SkippedKey>* skipped = nullptr);

}  // namespace reelfarm::pipeline

#endif  // REELFARM_NODE_PIPELINE_WEIGHTS_CHECKPOINT_H_
