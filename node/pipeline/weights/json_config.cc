#include "node/pipeline/weights/json_config.h"

#include <cerrno>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "common/errors.h"

namespace reelfarm::pipeline {

JsonConfigReader::JsonConfigReader(const nlohmann::json& json,
                                   std::string source)
    : json_(json), source_(std::move(source)) {
  if (!json_.is_object()) {
    status_ = absl::InvalidArgumentError(
        absl::StrCat(source_, ": expected a JSON object"));
  }
}

const nlohmann::json* JsonConfigReader::Find(const char* key) const {
  if (!status_.ok() || !json_.is_object()) return nullptr;
  auto it = json_.find(key);
  if (it == json_.end() || it->is_null()) return nullptr;
  return &*it;
}

void JsonConfigReader::Fail(const char* key, const char* want) {
  if (status_.ok()) {
    status_ = absl::InvalidArgumentError(
        absl::StrCat(source_, ": '", key, "' must be ", want));
  }
}

void JsonConfigReader::Int(const char* key, int64_t* out) {
  if (const nlohmann::json* v = Find(key)) {
    if (!v->is_number_integer()) return Fail(key, "an integer");
    *out = v->get<int64_t>();
  }
}

void JsonConfigReader::Double(const char* key, double* out) {
  if (const nlohmann::json* v = Find(key)) {
    if (!v->is_number()) return Fail(key, "a number");
    *out = v->get<double>();
  }
}

void JsonConfigReader::Bool(const char* key, bool* out) {
  if (const nlohmann::json* v = Find(key)) {
    if (!v->is_boolean()) return Fail(key, "true or false");
    *out = v->get<bool>();
  }
}

void JsonConfigReader::String(const char* key, std::string* out) {
  if (const nlohmann::json* v = Find(key)) {
    if (!v->is_string()) return Fail(key, "a string");
    *out = v->get<std::string>();
  }
}

void JsonConfigReader::IntList(const char* key, std::vector<int64_t>* out) {
  const nlohmann::json* v = Find(key);
  if (v == nullptr) return;
  // diffusers also writes a single int where a per-block list is allowed.
  if (v->is_number_integer()) {
    out->assign(1, v->get<int64_t>());
    return;
  }
  if (!v->is_array()) return Fail(key, "a list of integers");
  out->clear();
  for (const auto& item : *v) {
    if (!item.is_number_integer()) return Fail(key, "a list of integers");
    out->push_back(item.get<int64_t>());
  }
}

void JsonConfigReader::StringList(const char* key,
                                  std::vector<std::string>* out) {
  const nlohmann::json* v = Find(key);
  if (v == nullptr) return;
  if (!v->is_array()) return Fail(key, "a list of strings");
  out->clear();
  for (const auto& item : *v) {
    if (!item.is_string()) return Fail(key, "a list of strings");
    out->push_back(item.get<std::string>());
  }
}

absl::StatusOr<nlohmann::json> ReadJsonFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return ErrnoToStatus(errno, absl::StrCat("read ", path));
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json json =
      nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": not valid JSON"));
  }
  return json;
}

}  // namespace reelfarm::pipeline
