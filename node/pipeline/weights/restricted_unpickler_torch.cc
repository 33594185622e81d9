#include "node/pipeline/weights/restricted_unpickler_torch.h"

#include <iterator>
#include <utility>

#include "absl/strings/str_cat.h"

namespace reelfarm::pipeline::unpickler_internal {
namespace {

struct StorageType {
  const char* name;
  torch::ScalarType dtype;
};

// Integer and bool storages load too, so a checkpoint that carries them
// (e.g. CLIP's position_ids) parses; callers decide what to keep.
const StorageType kStorageTypes[] = {
    {"FloatStorage", torch::kFloat32},     {"HalfStorage", torch::kFloat16},
    {"BFloat16Storage", torch::kBFloat16}, {"DoubleStorage", torch::kFloat64},
    {"LongStorage", torch::kInt64},        {"IntStorage", torch::kInt32},
    {"ShortStorage", torch::kInt16},       {"CharStorage", torch::kInt8},
    {"ByteStorage", torch::kUInt8},        {"BoolStorage", torch::kBool},
};

bool MulOk(int64_t a, int64_t b, int64_t* out) {
  return !__builtin_mul_overflow(a, b, out);
}

}  // namespace

absl::StatusOr<int64_t> LookUpGlobal(absl::string_view module,
                                     absl::string_view name) {
  if (module == "collections" && name == "OrderedDict") return kOrderedDict;
  if (module == "torch._utils" && name == "_rebuild_tensor_v2") {
    return kRebuildTensorV2;
  }
  if (module == "torch._utils" && name == "_rebuild_parameter") {
    return kRebuildParameter;
  }
  if (module == "torch") {
    for (size_t i = 0; i < std::size(kStorageTypes); ++i) {
      if (name == kStorageTypes[i].name) return kStorageType + i;
    }
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "global '", module, ".", name,
      "' is not allowed: a checkpoint may only use collections.OrderedDict, "
      "torch._utils._rebuild_tensor_v2/_rebuild_parameter and torch storage "
      "types; nothing was called"));
}

absl::StatusOr<std::shared_ptr<const PickleStorage>> LoadStorage(
    const PickleObject& pid, const StorageResolver& storages) {
  const auto& f = pid.items;
  if (pid.kind != PickleKind::kTuple || f.size() != 5 ||
      f[0]->kind != PickleKind::kString || f[0]->text != "storage" ||
      f[1]->kind != PickleKind::kGlobal || f[1]->int_value < kStorageType ||
      f[2]->kind != PickleKind::kString || f[3]->kind != PickleKind::kString ||
      f[4]->kind != PickleKind::kInt || f[4]->int_value < 0) {
    return absl::InvalidArgumentError(
        "persistent id is not ('storage', <storage type>, key, location, "
        "numel)");
  }
  auto storage = std::make_shared<PickleStorage>();
  storage->dtype = kStorageTypes[f[1]->int_value - kStorageType].dtype;
  storage->key = f[2]->text;
  storage->numel = f[4]->int_value;
  const int64_t elem = static_cast<int64_t>(c10::elementSize(storage->dtype));
  int64_t need = 0;
  if (!MulOk(storage->numel, elem, &need)) {
    return absl::InvalidArgumentError(
        absl::StrCat("storage '", storage->key, "' too large"));
  }
  absl::StatusOr<absl::string_view> bytes = storages(storage->key);
  if (!bytes.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "storage '", storage->key, "': ", bytes.status().message()));
  }
  if (bytes->size() < static_cast<uint64_t>(need)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "storage '", storage->key, "' holds ", bytes->size(), " bytes but ",
        storage->numel, " elements of ", f[1]->text, " need ", need));
  }
  storage->bytes = bytes->substr(0, need);
  return storage;
}

absl::StatusOr<std::unique_ptr<PickleTensor>> RebuildTensor(
    const std::vector<const PickleObject*>& a, size_t max_dims) {
  // requires_grad, backward hooks and metadata do not affect the values.
  if ((a.size() != 6 && a.size() != 7) || a[0]->kind != PickleKind::kStorage ||
      a[1]->kind != PickleKind::kInt || a[2]->kind != PickleKind::kTuple ||
      a[3]->kind != PickleKind::kTuple) {
    return absl::InvalidArgumentError(
        "_rebuild_tensor_v2 expects (storage, offset, size, stride, ...)");
  }
  auto t = std::make_unique<PickleTensor>();
  t->storage = a[0]->storage;
  t->offset = a[1]->int_value;
  const auto& sizes = a[2]->items;
  const auto& strides = a[3]->items;
  if (sizes.size() != strides.size() || sizes.size() > max_dims) {
    return absl::InvalidArgumentError(
        "tensor size and stride disagree or have too many dims");
  }
  int64_t extent = 1;  // elements reached from the offset, when numel > 0
  for (size_t i = 0; i < sizes.size(); ++i) {
    if (sizes[i]->kind != PickleKind::kInt ||
        strides[i]->kind != PickleKind::kInt || sizes[i]->int_value < 0 ||
        strides[i]->int_value < 0) {
      return absl::InvalidArgumentError(
          "tensor size and stride must be non-negative ints");
    }
    const int64_t size = sizes[i]->int_value, stride = strides[i]->int_value;
    int64_t reach = 0;
    if (!MulOk(t->numel, size, &t->numel) ||
        (size > 0 && !MulOk(size - 1, stride, &reach)) ||
        __builtin_add_overflow(extent, reach, &extent)) {
      return absl::InvalidArgumentError("tensor size overflows");
    }
    t->sizes.push_back(size);
    t->strides.push_back(stride);
  }
  const int64_t numel = t->storage->numel;
  if (t->offset < 0 || t->offset > numel ||
      (t->numel > 0 && extent > numel - t->offset)) {
    return absl::InvalidArgumentError(
        absl::StrCat("tensor view (offset ", t->offset, ", ", t->numel,
                     " elements reaching ", extent, ") overruns storage '",
                     t->storage->key, "' of ", numel, " elements"));
  }
  return t;
}

}  // namespace reelfarm::pipeline::unpickler_internal
