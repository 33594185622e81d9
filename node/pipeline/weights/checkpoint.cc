#include "node/pipeline/weights/checkpoint.h"

#include <cstring>
#include <deque>
#include <exception>
#include <map>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "node/pipeline/weights/safetensors.h"
#include "node/pipeline/weights/zip_archive.h"

namespace reelfarm::pipeline {
namespace {

// Dicts nest a few levels in real checkpoints ({"state_dict": {...}}).
constexpr int kMaxDictDepth = 16;

const char* KindName(PickleKind kind) {
  switch (kind) {
    case PickleKind::kNone:
      return "None";
    case PickleKind::kBool:
      return "bool";
    case PickleKind::kInt:
      return "int";
    case PickleKind::kFloat:
      return "float";
    case PickleKind::kString:
      return "str";
    case PickleKind::kBytes:
      return "bytes";
    case PickleKind::kTuple:
      return "tuple";
    case PickleKind::kList:
      return "list";
    case PickleKind::kDict:
      return "dict";
    case PickleKind::kGlobal:
      return "global";
    case PickleKind::kStorage:
      return "storage";
    case PickleKind::kTensor:
      return "tensor";
  }
  return "?";
}

bool IsFloating(torch::ScalarType t) {
  return t == torch::kFloat32 || t == torch::kFloat16 ||
         t == torch::kBFloat16 || t == torch::kFloat64;
}

// Copies the storage span a view reaches into a tensor of the stored type,
// then widens it to a float32 contiguous tensor that shares nothing.
absl::StatusOr<torch::Tensor> ToFloat(const PickleTensor& t) {
  const PickleStorage& s = *t.storage;
  if (t.numel == 0) return torch::empty(t.sizes, torch::kFloat32);
  int64_t extent = 1;  // the unpickler checked these cannot overflow
  for (size_t i = 0; i < t.sizes.size(); ++i) {
    extent += (t.sizes[i] - 1) * t.strides[i];
  }
  const size_t elem = c10::elementSize(s.dtype);
  try {
    torch::Tensor raw = torch::empty({extent}, torch::dtype(s.dtype));
    std::memcpy(raw.data_ptr(), s.bytes.data() + t.offset * elem,
                extent * elem);
    torch::Tensor out =
        raw.as_strided(t.sizes, t.strides).to(torch::kFloat32).contiguous();
    // A float32 view of part of `raw` would keep all of it alive.
    if (out.data_ptr() == raw.data_ptr() && out.numel() != extent) {
      out = out.clone();
    }
    return out;
  } catch (const std::exception& e) {
    return absl::ResourceExhaustedError(e.what());
  }
}

// Walks the (possibly shared or cyclic) dict tree into the map. Budgets
// bound the work: visits by the objects built, elements by the bytes the
// storages hold, so shared containers cannot multiply the output.
class Flattener {
 public:
  Flattener(const PickleResult& pickle, const std::string& source,
            std::vector<SkippedKey>* skipped)
      : source_(source), skipped_(skipped) {
    visits_left_ = 2 * static_cast<int64_t>(pickle.arena.size()) + 1024;
    std::map<std::string, int64_t> storage_bytes;
    for (const auto& obj : pickle.arena) {
      if (obj->kind == PickleKind::kStorage) {
        int64_t& n = storage_bytes[obj->storage->key];
        n = std::max<int64_t>(n, obj->storage->bytes.size());
      }
    }
    elements_left_ = 1 << 20;
    for (const auto& [key, n] : storage_bytes) elements_left_ += 2 * n;
  }

  absl::Status Walk(const PickleObject& dict, const std::string& prefix,
                    int depth) {
    if (depth > kMaxDictDepth) {
      return Bad(absl::StrCat("dicts nested deeper than ", kMaxDictDepth,
                              " at '", prefix, "'"));
    }
    for (const auto& [k, v] : dict.entries) {
      if (--visits_left_ < 0) {
        return Bad("too many entries (shared or cyclic containers)");
      }
      if (k->kind != PickleKind::kString) {
        Skip(absl::StrCat(prefix, "<", KindName(k->kind), " key>"),
             "key is not a string");
        continue;
      }
      const std::string name = prefix + k->text;
      if (v->kind == PickleKind::kTensor) {
        if (absl::Status st = AddTensor(name, *v->tensor); !st.ok()) return st;
      } else if (v->kind == PickleKind::kDict) {
        // A dict that yields no tensor (a config) is skipped as one entry.
        const size_t tensors = out_.size(), skips = skipped_here_.size();
        if (absl::Status st = Walk(*v, name + ".", depth + 1); !st.ok()) {
          return st;
        }
        if (out_.size() == tensors) {
          skipped_here_.resize(skips);
          Skip(name, "dict without tensors");
        }
      } else {
        Skip(name, KindName(v->kind));
      }
    }
    return absl::OkStatus();
  }

  void Skip(std::string key, std::string reason) {
    skipped_here_.push_back({std::move(key), std::move(reason)});
  }

  TensorMap Finish() {
    if (skipped_ != nullptr) {
      skipped_->insert(skipped_->end(), skipped_here_.begin(),
                       skipped_here_.end());
    }
    // DataParallel saves every key under "module.".
    bool all_module = !out_.empty();
    for (const auto& [name, t] : out_) {
      all_module = all_module && absl::StartsWith(name, "module.");
    }
    if (!all_module) return std::move(out_);
    TensorMap stripped;
    for (auto& [name, t] : out_) stripped.emplace(name.substr(7), std::move(t));
    return stripped;
  }

 private:
  absl::Status Bad(absl::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat(source_, ": ", what));
  }

  absl::Status AddTensor(const std::string& name, const PickleTensor& t) {
    if (!IsFloating(t.storage->dtype)) {
      Skip(name, absl::StrCat(c10::toString(t.storage->dtype), " tensor"));
      return absl::OkStatus();
    }
    elements_left_ -= t.numel;
    if (elements_left_ < 0) {
      return Bad(absl::StrCat("tensor '", name,
                              "': the tensors hold far more elements than "
                              "their storages (overlapping views)"));
    }
    absl::StatusOr<torch::Tensor> f = ToFloat(t);
    if (!f.ok()) {
      return Bad(absl::StrCat("tensor '", name, "': ", f.status().message()));
    }
    out_.insert_or_assign(name, *std::move(f));
    return absl::OkStatus();
  }

  const std::string& source_;
  std::vector<SkippedKey>* skipped_;
  std::vector<SkippedKey> skipped_here_;
  int64_t visits_left_ = 0;
  int64_t elements_left_ = 0;
  TensorMap out_;
};

}  // namespace

absl::StatusOr<TensorMap> StateDictFromPickle(
    const PickleResult& pickle, const std::string& source,
    std::vector<SkippedKey>* skipped) {
  const PickleObject* root = pickle.root;
  if (root == nullptr || root->kind != PickleKind::kDict) {
    return absl::InvalidArgumentError(absl::StrCat(
        source, ": the checkpoint holds a ",
        root == nullptr ? "nothing" : KindName(root->kind),
        ", not a dict of tensors (a pickled nn.Module is unsupported: save "
        "its state_dict())"));
  }
  Flattener flat(pickle, source, skipped);
  // Unwrap {"state_dict": {...}, "epoch": ..., ...}, as often as nested.
  for (int depth = 0; depth < kMaxDictDepth; ++depth) {
    const PickleObject* inner = nullptr;
    for (const auto& [k, v] : root->entries) {
      if (k->kind == PickleKind::kString && k->text == "state_dict" &&
          v->kind == PickleKind::kDict) {
        inner = v;
      }
    }
    if (inner == nullptr || inner == root) break;
    for (const auto& [k, v] : root->entries) {
      if (v == inner) continue;
      flat.Skip(k->kind == PickleKind::kString ? k->text : "<key>",
                absl::StrCat(KindName(v->kind), " beside state_dict"));
    }
    root = inner;
  }
  if (absl::Status st = flat.Walk(*root, "", 0); !st.ok()) return st;
  return flat.Finish();
}

absl::StatusOr<TensorMap> ParseCheckpoint(absl::string_view bytes,
                                          const std::string& source,
                                          std::vector<SkippedKey>* skipped) {
  absl::StatusOr<ZipArchive> zip = ZipArchive::Parse(bytes, source);
  if (!zip.ok()) return zip.status();
  // Like torch, the archive's name is the first record's directory.
  const std::string& first =
      zip->entries().empty() ? std::string() : zip->entries()[0].name;
  const size_t slash = first.find('/');
  const std::string prefix = first.substr(0, slash) + "/";
  const ZipEntry* pkl =
      slash == std::string::npos ? nullptr : zip->Find(prefix + "data.pkl");
  if (pkl == nullptr) {
    const bool script = zip->Find(prefix + "constants.pkl") != nullptr;
    return absl::InvalidArgumentError(absl::StrCat(
        source, ": no ", prefix, "data.pkl: not a torch.save checkpoint",
        script ? " (a TorchScript archive, which is unsupported)" : ""));
  }
  if (const ZipEntry* order = zip->Find(prefix + "byteorder")) {
    std::string scratch;
    absl::StatusOr<absl::string_view> text = zip->Read(*order, &scratch);
    if (!text.ok()) return text.status();
    if (*text != "little") {
      return absl::UnimplementedError(absl::StrCat(
          source, ": byte order '", absl::CEscape(*text), "' is unsupported"));
    }
  }
  std::string pkl_scratch;
  absl::StatusOr<absl::string_view> pickle = zip->Read(*pkl, &pkl_scratch);
  if (!pickle.ok()) return pickle.status();

  // Storages stay views into the file unless they had to be inflated.
  std::deque<std::string> inflated;
  std::map<std::string, absl::string_view, std::less<>> resolved;
  const StorageResolver resolver =
      [&](absl::string_view key) -> absl::StatusOr<absl::string_view> {
    if (auto it = resolved.find(key); it != resolved.end()) return it->second;
    const std::string name = absl::StrCat(prefix, "data/", key);
    const ZipEntry* entry = zip->Find(name);
    if (entry == nullptr) {
      return absl::NotFoundError(absl::StrCat("no entry ", name));
    }
    inflated.emplace_back();
    absl::StatusOr<absl::string_view> data =
        zip->Read(*entry, &inflated.back());
    if (data.ok()) resolved.emplace(std::string(key), *data);
    return data;
  };
  absl::StatusOr<PickleResult> result =
      Unpickle(*pickle, resolver, absl::StrCat(source, ": ", pkl->name));
  if (!result.ok()) return result.status();
  return StateDictFromPickle(*result, source, skipped);
}

absl::StatusOr<TensorMap> LoadCheckpoint(const std::string& path,
                                         std::vector<SkippedKey>* skipped) {
  FileMapping file;
  if (absl::Status st = file.Open(path); !st.ok()) return st;
  return ParseCheckpoint(file.bytes(), path, skipped);
}

WeightsFormat DetectWeightsFormat(absl::string_view head, uint64_t size) {
  if (head.size() >= 9 && head[8] == '{') {
    uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<uint8_t>(head[i]);
    if (n >= 2 && n <= size - 8 && n <= (100ull << 20)) {
      return WeightsFormat::kSafetensors;
    }
  }
  if (absl::StartsWith(head, absl::string_view("PK\x03\x04", 4))) {
    return WeightsFormat::kTorchZip;
  }
  // Old torch.save wrote pickles (protocol 2: 0x80 0x02) or, earliest, tar.
  if (absl::StartsWith(head, "\x80") ||
      (head.size() >= 262 && head.substr(257, 5) == "ustar")) {
    return WeightsFormat::kLegacyTorch;
  }
  return WeightsFormat::kUnknown;
}

absl::StatusOr<TensorMap> LoadWeightsFile(const std::string& path,
                                          std::vector<SkippedKey>* skipped) {
  FileMapping file;
  if (absl::Status st = file.Open(path); !st.ok()) return st;
  const absl::string_view bytes = file.bytes();
  switch (DetectWeightsFormat(bytes.substr(0, 512), bytes.size())) {
    case WeightsFormat::kSafetensors:
      return ParseSafetensors(bytes, path);
    case WeightsFormat::kTorchZip:
      return ParseCheckpoint(bytes, path, skipped);
    case WeightsFormat::kLegacyTorch:
      return absl::InvalidArgumentError(absl::StrCat(
          path,
          ": a legacy (pre-1.6, non-zip) torch.save file, which is "
          "unsupported. Convert it once in Python: sd = torch.load(path, "
          "map_location='cpu'); safetensors.torch.save_file(sd, "
          "'model.safetensors') (or torch.save(sd, 'model.ckpt') with torch "
          ">= 1.6)"));
    case WeightsFormat::kUnknown:
      break;
  }
  if (absl::StartsWith(bytes, "version https://git-lfs")) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": a Git LFS pointer, not the weights (run git lfs pull)"));
  }
  return absl::InvalidArgumentError(absl::StrCat(
      path, ": neither safetensors nor a torch zip checkpoint (starts with \"",
      absl::CHexEscape(bytes.substr(0, 16)), "\")"));
}

}  // namespace reelfarm::pipeline
