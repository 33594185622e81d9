#include "tests/sweep/test_util.h"

#include <unistd.h>

#include <fstream>
#include <memory>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "sweep/sweep_expander.h"

namespace reelfarm::config::testing_util {

namespace fs = std::filesystem;

ScratchDir::ScratchDir() {
  static int counter = 0;
  const ::testing::TestInfo* info =
      ::testing::UnitTest::GetInstance()->current_test_info();
  path_ = (fs::path(::testing::TempDir()) /
           absl::StrCat("reelfarm_config_", info ? info->name() : "test", "_",
                        ::getpid(), "_", counter++))
              .lexically_normal()
              .string();
  fs::remove_all(path_);
  fs::create_directories(path_);
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::string ScratchDir::Write(const std::string& relative,
                              const std::string& content) const {
  const fs::path p = fs::path(path_) / relative;
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << content;
  return p.string();
}

ScopedCwd::ScopedCwd(const std::string& dir) : previous_(fs::current_path()) {
  fs::current_path(dir);
}

ScopedCwd::~ScopedCwd() { fs::current_path(previous_); }

std::string DataPath(const std::string& name) {
  return absl::StrCat(REELFARM_CONFIG_TEST_DATA, "/", name);
}

std::string ReadData(const std::string& name) {
  std::ifstream in(DataPath(name));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

LoadOptions NoModelCheck(uint64_t first_seed) {
  LoadOptions options;
  options.check_model_paths = false;
  auto next = std::make_shared<uint64_t>(first_seed);
  options.draw_seed = [next] { return (*next)++; };
  return options;
}

void WriteAnimateDiffModels(const ScratchDir& dir) {
  for (const char* path : {
           "models/StableDiffusion/stable-diffusion-v1-5/unet/model.bin",
           "models/StableDiffusion/stable-diffusion-v1-5/vae/model.bin",
           "configs/inference/inference-v1.yaml",
           "configs/inference/inference-v2.yaml",
           "configs/inference/inference-v3.yaml",
           "models/Motion_Module/mm_sd_v14.ckpt",
           "models/Motion_Module/mm_sd_v15.ckpt",
           "models/Motion_Module/mm_sd_v15_v2.ckpt",
           "models/Motion_Module/v3_sd15_mm.ckpt",
           "models/Motion_Module/v3_sd15_adapter.ckpt",
           "models/MotionLoRA/v2_lora_PanLeft.ckpt",
           "models/MotionLoRA/v2_lora_TiltUp.ckpt",
           "models/DreamBooth_LoRA/watercolor.safetensors",
           "models/DreamBooth_LoRA/photoreal.safetensors",
           "models/DreamBooth_LoRA/plush_toy_lora.safetensors",
       }) {
    // Distinct contents so distinct files get distinct digests.
    dir.Write(path, absl::StrCat("weights of ", path));
  }
}

uint64_t JobCount(const v1::SweepSpec& spec) {
  absl::StatusOr<SweepExpander> ex = SweepExpander::Create(spec);
  EXPECT_TRUE(ex.ok()) << ex.status();
  return ex.ok() ? ex->size() : 0;
}

::testing::AssertionResult ErrorIs(const absl::Status& status,
                                   absl::StatusCode code,
                                   const std::string& prefix,
                                   const std::string& fragment) {
  if (status.code() != code) {
    return ::testing::AssertionFailure()
           << "code is " << absl::StatusCodeToString(status.code()) << ", want "
           << absl::StatusCodeToString(code) << ": " << status;
  }
  const std::string message(status.message());
  if (!absl::StartsWith(message, prefix)) {
    return ::testing::AssertionFailure()
           << "message does not start with \"" << prefix << "\": " << message;
  }
  if (!absl::StrContains(message, fragment)) {
    return ::testing::AssertionFailure()
           << "message lacks \"" << fragment << "\": " << message;
  }
  return ::testing::AssertionSuccess() << message;
}

}  // namespace reelfarm::config::testing_util
