#ifndef REELFARM_NODE_PIPELINE_WEIGHTS_JSON_CONFIG_H_
#define REELFARM_NODE_PIPELINE_WEIGHTS_JSON_CONFIG_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace reelfarm::pipeline {

// Reads typed fields from a diffusers/transformers config.json. A missing
// key (or null) keeps the field's default; a value of the wrong type records
// an error naming the file and the key, and the first such error is kept.
class JsonConfigReader {
 public:
  JsonConfigReader(const nlohmann::json& json, std::string source);

  void Int(const char* key, int64_t* out);
  void Double(const char* key, double* out);
  void Bool(const char* key, bool* out);
  void String(const char* key, std::string* out);
  void IntList(const char* key, std::vector<int64_t>* out);
  void StringList(const char* key, std::vector<std::string>* out);

  const absl::Status& status() const { return status_; }

 private:
  const nlohmann::json* Find(const char* key) const;
  void Fail(const char* key, const char* want);

  const nlohmann::json& json_;
  std::string source_;
  absl::Status status_;
};

// Reads and parses a JSON file; errors name the path.
absl::StatusOr<nlohmann::json> ReadJsonFile(const std::string& path);

}  // namespace reelfarm::pipeline

#endif  // REELFARM_NODE_PIPELINE_WEIGHTS_JSON_CONFIG_H_
