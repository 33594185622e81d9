#include "node/devices.h"

#include <torch/cuda.h>

#include <cstdlib>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace reelfarm {
namespace {

v1::Device Named(const std::string& name) {
  v1::Device d;
  d.set_name(name);
  return d;
}

}  // namespace

absl::StatusOr<std::vector<v1::Device>> ParseDeviceList(
    const std::string& list) {
  std::vector<v1::Device> out;
  for (absl::string_view part :
       absl::StrSplit(list, ',', absl::SkipWhitespace())) {
    absl::string_view item = absl::StripAsciiWhitespace(part);
    if (item == "cpu") {
      // Listed more than once, CPU devices stand in for GPUs: a lane of
      // "cpu,cpu" renders a video on two ranks, as two GPUs would.
      out.push_back(Named("cpu"));
      continue;
    }
    absl::ConsumePrefix(&item, "cuda:");
    int ordinal = -1;
    if (!absl::SimpleAtoi(item, &ordinal) || ordinal < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--devices: '", part, "' is not cpu or a CUDA ordinal such as 0"));
    }
    out.push_back(Named(absl::StrCat("cuda:", ordinal)));
  }
  if (out.empty()) return absl::InvalidArgumentError("--devices is empty");
  return out;
}

absl::Status CheckLaneLayout(size_t devices, uint32_t lanes,
                             uint32_t devices_per_lane) {
  if (devices_per_lane == 0) {
    return absl::InvalidArgumentError("--devices-per-lane must be at least 1");
  }
  if (devices_per_lane > devices) {
    return absl::InvalidArgumentError(
        absl::StrCat("--devices-per-lane ", devices_per_lane, " but only ",
                     devices, " device(s); list them with --devices"));
  }
  if (devices_per_lane > 1 && lanes != 0) {
    return absl::InvalidArgumentError(
        "--lanes and --devices-per-lane do not go together: with several "
        "devices per lane, the devices make the lanes");
  }
  return absl::OkStatus();
}

std::optional<std::vector<v1::Device>> DevicesFromEnvironment(
    const GetEnvFn& getenv) {
  const auto value = [&](const char* name) -> std::string {
    const char* v = getenv(name);
    if (v == nullptr) return "";
    std::string s(absl::StripAsciiWhitespace(v));
    return s == "NoDevFiles" ? "" : s;
  };
  if (const std::string visible = value("CUDA_VISIBLE_DEVICES");
      !visible.empty()) {
    std::vector<v1::Device> out;
    for (absl::string_view entry :
         absl::StrSplit(visible, ',', absl::SkipWhitespace())) {
      (void)entry;  // UUIDs or ordinals: CUDA renumbers them from 0
      out.push_back(Named(absl::StrCat("cuda:", out.size())));
    }
    if (!out.empty()) return out;
  }
  for (const char* name : {"SLURM_STEP_GPUS", "SLURM_JOB_GPUS"}) {
    const std::string gpus = value(name);
    if (gpus.empty()) continue;
    absl::StatusOr<std::vector<v1::Device>> parsed = ParseDeviceList(gpus);
    if (parsed.ok()) return *std::move(parsed);
  }
  return std::nullopt;
}

absl::StatusOr<std::vector<v1::Device>> DiscoverDevices(
    const std::string& flag) {
  if (!flag.empty() && flag != "auto") return ParseDeviceList(flag);
  if (std::optional<std::vector<v1::Device>> from_env = DevicesFromEnvironment(
          [](const char* n) { return std::getenv(n); })) {
    return *std::move(from_env);
  }
  const size_t cuda = torch::cuda::device_count();
  if (cuda > 0) {
    std::vector<v1::Device> out;
    for (size_t i = 0; i < cuda; ++i)
      out.push_back(Named(absl::StrCat("cuda:", i)));
    return out;
  }
  return std::vector<v1::Device>{Named("cpu")};
}

}  // namespace reelfarm
