#include "node/pipeline/weights/state_dict.h"

#include <set>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace reelfarm::pipeline {
namespace {

std::string ShapeText(const torch::Tensor& t) {
  std::ostringstream out;
  out << t.sizes();
  return out.str();
}

// Lists at most a few names: a wrong checkpoint misses hundreds.
std::string Some(const std::vector<std::string>& names) {
  constexpr size_t kShown = 5;
  std::vector<std::string> shown(
      names.begin(), names.begin() + std::min(kShown, names.size()));
  std::string out = absl::StrJoin(shown, ", ");
  if (names.size() > kShown) {
    absl::StrAppend(&out, " and ", names.size() - kShown, " more");
  }
  return out;
}

}  // namespace

absl::Status LoadStateDict(torch::nn::Module& module, const TensorMap& weights,
                           absl::string_view prefix, const std::string& source,
                           const std::vector<std::string>& ignored_suffixes) {
  torch::NoGradGuard no_grad;
  std::set<std::string> used;
  std::vector<std::string> missing;
  for (auto& item : module.named_parameters(/*recurse=*/true)) {
    const std::string key = absl::StrCat(prefix, item.key());
    auto it = weights.find(key);
    if (it == weights.end()) {
      missing.push_back(key);
      continue;
    }
    torch::Tensor& param = item.value();
    if (it->second.sizes() != param.sizes()) {
      return absl::InvalidArgumentError(absl::StrCat(
          source, ": tensor '", key, "' has shape ", ShapeText(it->second),
          ", the model expects ", ShapeText(param)));
    }
    param.copy_(it->second);
    used.insert(key);
  }
  if (!missing.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        source, ": missing ", missing.size(), " tensor(s): ", Some(missing)));
  }
  std::vector<std::string> unexpected;
  for (const auto& [key, tensor] : weights) {
    if (!absl::StartsWith(key, prefix) || used.count(key) > 0) continue;
    bool ignored = false;
    for (const std::string& suffix : ignored_suffixes) {
      ignored = ignored || absl::EndsWith(key, suffix);
    }
    if (!ignored) unexpected.push_back(key);
  }
  if (!unexpected.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": ", unexpected.size(),
                     " unexpected tensor(s): ", Some(unexpected)));
  }
  return absl::OkStatus();
}

}  // namespace reelfarm::pipeline
