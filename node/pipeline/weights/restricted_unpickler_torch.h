#ifndef REELFARM_NODE_PIPELINE_WEIGHTS_RESTRICTED_UNPICKLER_TORCH_H_
#define REELFARM_NODE_PIPELINE_WEIGHTS_RESTRICTED_UNPICKLER_TORCH_H_

// The torch side of the restricted unpickler: which globals a checkpoint may
// name, and what the two torch ones mean. Internal to restricted_unpickler.cc;
// errors here carry only the message, the VM adds file and offset.

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "node/pipeline/weights/restricted_unpickler.h"

namespace reelfarm::pipeline::unpickler_internal {

enum Global : int64_t {
  kOrderedDict,
  kRebuildTensorV2,
  kRebuildParameter,
  kStorageType,  // kStorageType + i: the i-th storage type
};

// The allowed global module.name, or an error naming it.
absl::StatusOr<int64_t> LookUpGlobal(absl::string_view module,
                                     absl::string_view name);

// Resolves a persistent id ('storage', <storage type global>, key, location,
// numel) and checks that the storage's bytes hold numel elements.
absl::StatusOr<std::shared_ptr<const PickleStorage>> LoadStorage(
    const PickleObject& pid, const StorageResolver& storages);

// _rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks
// [, metadata]) with the view checked against its storage.
absl::StatusOr<std::unique_ptr<PickleTensor>> RebuildTensor(
    const std::vector<const PickleObject*>& args, size_t max_dims);

}  // namespace reelfarm::pipeline::unpickler_internal

#endif  // REELFARM_NODE_PIPELINE_WEIGHTS_RESTRICTED_UNPICKLER_TORCH_H_
