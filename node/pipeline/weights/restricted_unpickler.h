#ifndef REELFARM_NODE_PIPELINE_WEIGHTS_RESTRICTED_UNPICKLER_H_
#define REELFARM_NODE_PIPELINE_WEIGHTS_RESTRICTED_UNPICKLER_H_

#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace reelfarm::pipeline {

// A pickle VM for the data.pkl of torch.save archives that builds plain data
// only: None, bools, ints, floats, strings, bytes, tuples, lists, dicts
// (OrderedDicts become dicts) and tensor references. It never calls
// anything: the few globals it knows are interpreted, every other one is
// rejected, naming its module and name.
//
// Allowed globals:
//   collections.OrderedDict              () -> empty dict
//   torch._utils._rebuild_tensor_v2      (storage, offset, size, stride,
//                                          requires_grad, hooks[, metadata])
//   torch._utils._rebuild_parameter      (tensor, requires_grad, hooks)
//   torch.{Float,Half,BFloat16,Double}Storage            floating point
//   torch.{Long,Int,Short,Char,Byte,Bool}Storage        integer / bool
// The storage types appear only inside persistent ids. Their meaning lives
// in restricted_unpickler_torch.cc.
//
// Opcodes (protocols 2-5 binary forms): PROTO FRAME STOP MARK POP POP_MARK
// DUP NONE NEWTRUE NEWFALSE BININT BININT1 BININT2 LONG1 LONG4 BINFLOAT
// BINUNICODE SHORT_BINUNICODE BINUNICODE8 BINSTRING SHORT_BINSTRING BINBYTES
// SHORT_BINBYTES BINBYTES8 BYTEARRAY8 EMPTY_TUPLE TUPLE TUPLE1 TUPLE2 TUPLE3
// EMPTY_LIST LIST APPEND APPENDS EMPTY_DICT DICT SETITEM SETITEMS BINPUT
// LONG_BINPUT MEMOIZE BINGET LONG_BINGET GLOBAL STACK_GLOBAL REDUCE BUILD
// BINPERSID. Text (protocol 0) forms, sets, object construction (INST, OBJ,
// NEWOBJ*), extension registry and out-of-band buffers are rejected.

enum class PickleKind {
  kNone,
  kBool,
  kInt,
  kFloat,
  kString,
  kBytes,
  kTuple,
  kList,
  kDict,
  kGlobal,   // an allowed global not yet applied (internal)
  kStorage,  // a persistent-id storage (internal)
  kTensor,
};

// A storage named by a persistent id ('storage', type, key, location, numel),
// resolved to its bytes in the archive. The bytes hold at least
// numel * element size bytes.
struct PickleStorage {
  torch::ScalarType dtype = torch::kFloat32;
  std::string key;
  int64_t numel = 0;
  absl::string_view bytes;
};

// A tensor view of a storage whose extent was checked: every element that
// `sizes` and `strides` reach from `offset` lies inside the storage.
struct PickleTensor {
  std::shared_ptr<const PickleStorage> storage;
  int64_t offset = 0;  // in elements
  std::vector<int64_t> sizes;
  std::vector<int64_t> strides;
  int64_t numel = 1;
};

struct PickleObject {
  PickleKind kind = PickleKind::kNone;
  int64_t int_value = 0;  // kInt, kBool; kGlobal: which global
  double float_value = 0;
  std::string text;  // kString, kBytes; kGlobal: "module.name"
  std::vector<const PickleObject*> items;  // kTuple, kList
  std::vector<std::pair<const PickleObject*, const PickleObject*>>
      entries;  // kDict, in insertion order; a later repeated key wins
  std::shared_ptr<const PickleStorage> storage;  // kStorage
  std::unique_ptr<PickleTensor> tensor;          // kTensor
  size_t depth = 0;  // container nesting as built (bounded by max_depth)
};

// The unpickled value; `root` and everything it reaches live in `arena`.
// Containers may be shared or even cyclic (the memo allows both), so walk
// them with a depth limit.
struct PickleResult {
  std::vector<std::unique_ptr<PickleObject>> arena;
  const PickleObject* root = nullptr;
};

// Bounds that keep a hostile pickle from exhausting memory.
struct UnpicklerLimits {
  size_t max_input_bytes = 512u << 20;
  size_t max_stack = 1u << 20;    // values on the stack
  size_t max_marks = 64;          // open MARKs
  size_t max_memo = 1u << 21;     // memo entries
  size_t max_objects = 1u << 21;  // objects built (real files: ~10/tensor)
  size_t max_depth = 64;          // container nesting
  size_t max_string = 64u << 20;  // bytes in one string
  size_t max_dims = 32;           // tensor rank
};

// Returns the bytes of the storage with this key (data/<key> in a torch
// archive); they must stay valid while the result is used.
using StorageResolver =
    std::function<absl::StatusOr<absl::string_view>(absl::string_view key)>;

// Runs `pickle` to its STOP. `source` names the pickle in errors, which also
// give the opcode's offset.
absl::StatusOr<PickleResult> Unpickle(absl::string_view pickle,
                                      const StorageResolver& storages,
                                      const std::string& source,
                                      const UnpicklerLimits& limits = {});

}  // namespace reelfarm::pipeline

#endif  // REELFARM_NODE_PIPELINE_WEIGHTS_RESTRICTED_UNPICKLER_H_
