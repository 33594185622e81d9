#include "node/pipeline/schedulers/scheduler_config.h"

#include <cmath>
#include <functional>
#include <map>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace reelfarm::pipeline {
namespace {

using Json = nlohmann::json;

absl::Status WrongType(absl::string_view key, absl::string_view expected,
                       const Json& value) {
  return absl::InvalidArgumentError(
      absl::StrCat("scheduler config key '", key, "' must be ", expected,
                   ", got ", value.type_name(), " ", value.dump()));
}

absl::Status ReadInt(absl::string_view key, const Json& v, int64_t* out) {
  if (v.is_number_integer()) {
    *out = v.get<int64_t>();
    return absl::OkStatus();
  }
  // YAML and some writers turn 1000 into 1000.0; accept integral floats.
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9e15) {
      *out = static_cast<int64_t>(d);
      return absl::OkStatus();
    }
  }
  return WrongType(key, "an integer", v);
}

absl::Status ReadDouble(absl::string_view key, const Json& v, double* out) {
  if (v.is_number()) {
    *out = v.get<double>();
    return absl::OkStatus();
  }
  return WrongType(key, "a number", v);
}

absl::Status ReadBool(absl::string_view key, const Json& v, bool* out) {
  if (v.is_boolean()) {
    *out = v.get<bool>();
    return absl::OkStatus();
  }
  return WrongType(key, "a boolean", v);
}

absl::Status ReadString(absl::string_view key, const Json& v,
                        std::string* out) {
  if (v.is_string()) {
    *out = v.get<std::string>();
    return absl::OkStatus();
  }
  return WrongType(key, "a string", v);
}

// Python writes float('-inf') as -Infinity, which is not JSON; configs that
// went through other tools carry it as a string instead.
absl::Status ReadExtendedDouble(absl::string_view key, const Json& v,
                                double* out) {
  if (v.is_string()) {
    const std::string s = v.get<std::string>();
    const double inf = std::numeric_limits<double>::infinity();
    if (s == "-inf" || s == "-Infinity") {
      *out = -inf;
      return absl::OkStatus();
    }
    if (s == "inf" || s == "Infinity") {
      *out = inf;
      return absl::OkStatus();
    }
    return WrongType(key, "a number or \"-inf\"", v);
  }
  return ReadDouble(key, v, out);
}

absl::Status ReadDoubleList(absl::string_view key, const Json& v,
                            std::vector<double>* out) {
  if (!v.is_array()) return WrongType(key, "a list of numbers", v);
  out->clear();
  for (const Json& e : v) {
    if (!e.is_number()) return WrongType(key, "a list of numbers", v);
    out->push_back(e.get<double>());
  }
  return absl::OkStatus();
}

using Setter = std::function<absl::Status(const Json&, SchedulerConfig*)>;
using SetterMap = std::map<std::string, Setter, std::less<>>;

template <typename T>
using Reader = absl::Status (*)(absl::string_view, const Json&, T*);

template <typename T>
void Add(SetterMap& map, const char* key, T SchedulerConfig::*member,
         Reader<T> read) {
  map[key] = [key, member, read](const Json& v, SchedulerConfig* c) {
    return read(key, v, &(c->*member));
  };
}

// A nullable key: JSON null (Python None) leaves the class default.
template <typename T>
void Add(SetterMap& map, const char* key,
         std::optional<T> SchedulerConfig::*member, Reader<T> read) {
  map[key] = [key, member, read](const Json& v, SchedulerConfig* c) {
    std::optional<T>& field = c->*member;
    if (v.is_null()) {
      field.reset();
      return absl::OkStatus();
    }
    T value{};
    absl::Status s = read(key, v, &value);
    if (s.ok()) field = std::move(value);
    return s;
  };
}

const SetterMap& Setters() {
  static const SetterMap* setters = [] {
    auto* m = new SetterMap;
    using C = SchedulerConfig;
    Add(*m, "num_train_timesteps", &C::num_train_timesteps, &ReadInt);
    Add(*m, "beta_start", &C::beta_start, &ReadDouble);
    Add(*m, "beta_end", &C::beta_end, &ReadDouble);
    Add(*m, "beta_schedule", &C::beta_schedule, &ReadString);
    Add(*m, "trained_betas", &C::trained_betas, &ReadDoubleList);
    Add(*m, "prediction_type", &C::prediction_type, &ReadString);
    Add(*m, "timestep_spacing", &C::timestep_spacing, &ReadString);
    Add(*m, "steps_offset", &C::steps_offset, &ReadInt);
    Add(*m, "rescale_betas_zero_snr", &C::rescale_betas_zero_snr, &ReadBool);
    Add(*m, "clip_sample", &C::clip_sample, &ReadBool);
    Add(*m, "clip_sample_range", &C::clip_sample_range, &ReadDouble);
    Add(*m, "set_alpha_to_one", &C::set_alpha_to_one, &ReadBool);
    Add(*m, "thresholding", &C::thresholding, &ReadBool);
    Add(*m, "dynamic_thresholding_ratio", &C::dynamic_thresholding_ratio,
        &ReadDouble);
    Add(*m, "sample_max_value", &C::sample_max_value, &ReadDouble);
    Add(*m, "interpolation_type", &C::interpolation_type, &ReadString);
    Add(*m, "use_karras_sigmas", &C::use_karras_sigmas, &ReadBool);
    Add(*m, "sigma_min", &C::sigma_min, &ReadDouble);
    Add(*m, "sigma_max", &C::sigma_max, &ReadDouble);
    Add(*m, "timestep_type", &C::timestep_type, &ReadString);
    Add(*m, "final_sigmas_type", &C::final_sigmas_type, &ReadString);
    Add(*m, "solver_order", &C::solver_order, &ReadInt);
    Add(*m, "algorithm_type", &C::algorithm_type, &ReadString);
    Add(*m, "solver_type", &C::solver_type, &ReadString);
    Add(*m, "lower_order_final", &C::lower_order_final, &ReadBool);
    Add(*m, "euler_at_final", &C::euler_at_final, &ReadBool);
    Add(*m, "use_lu_lambdas", &C::use_lu_lambdas, &ReadBool);
    Add(*m, "lambda_min_clipped", &C::lambda_min_clipped, &ReadExtendedDouble);
    Add(*m, "variance_type", &C::variance_type, &ReadString);
    return m;
  }();
  return *setters;
}

}  // namespace

absl::StatusOr<SchedulerConfig> ParseSchedulerConfig(
    const nlohmann::json& config_json) {
  if (!config_json.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat("scheduler config must be a JSON object, got ",
                     config_json.type_name()));
  }
  SchedulerConfig config;
  for (const auto& [key, value] : config_json.items()) {
    auto it = Setters().find(key);
    if (it == Setters().end()) continue;  // other classes' keys, _class_name
    absl::Status s = it->second(value, &config);
    if (!s.ok()) return s;
  }
  return config;
}

}  // namespace reelfarm::pipeline
