// Config parsing and the errors the scheduler API reports instead of
// throwing.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "node/pipeline/schedulers/scheduler_factory.h"

namespace reelfarm::pipeline {
namespace {

using Json = nlohmann::json;

absl::Status ParseError(const Json& j) {
  return ParseSchedulerConfig(j).status();
}

TEST(SchedulerConfigTest, ReadsKnownKeysAndIgnoresOthers) {
  auto c = ParseSchedulerConfig(Json::parse(R"({
    "_class_name": "DDIMScheduler", "_diffusers_version": "0.30.3",
    "num_train_timesteps": 1000.0, "beta_schedule": "scaled_linear",
    "trained_betas": null, "timestep_spacing": "trailing",
    "sigma_min": null, "variance_type": null, "lambda_min_clipped": "-inf",
    "use_karras_sigmas": true, "solver_order": 3, "some_future_key": [1]
  })"));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->num_train_timesteps, 1000);
  EXPECT_EQ(c->beta_schedule, "scaled_linear");
  EXPECT_EQ(c->timestep_spacing, "trailing");
  EXPECT_FALSE(c->sigma_min.has_value());
  EXPECT_TRUE(std::isinf(c->lambda_min_clipped) && c->lambda_min_clipped < 0);
  EXPECT_TRUE(c->use_karras_sigmas);
  EXPECT_EQ(c->solver_order, 3);
  // Unset class-dependent keys stay unset.
  EXPECT_FALSE(c->clip_sample.has_value());
}

TEST(SchedulerConfigTest, WrongTypesNameTheKey) {
  struct Case {
    const char* json;
    const char* key;
  };
  for (const Case& c : std::vector<Case>{
           {R"({"num_train_timesteps": "1000"})", "num_train_timesteps"},
           {R"({"num_train_timesteps": 10.5})", "num_train_timesteps"},
           {R"({"beta_start": true})", "beta_start"},
           {R"({"clip_sample": 0})", "clip_sample"},
           {R"({"beta_schedule": 3})", "beta_schedule"},
           {R"({"trained_betas": [0.1, "x"]})", "trained_betas"},
           {R"({"steps_offset": null})", "steps_offset"},
           {R"({"lambda_min_clipped": "low"})", "lambda_min_clipped"},
       }) {
    const absl::Status s = ParseError(Json::parse(c.json));
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.json;
    EXPECT_NE(s.message().find(c.key), absl::string_view::npos) << s;
  }
  EXPECT_EQ(ParseError(Json::array()).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(SchedulerConfigTest, UnknownSchedulerName) {
  auto s = MakeScheduler("heun", SchedulerConfig());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.status().message().find("heun"), absl::string_view::npos);
  EXPECT_NE(s.status().message().find("dpmpp_2m_karras"),
            absl::string_view::npos);
}

TEST(SchedulerConfigTest, InvalidValuesAreErrors) {
  struct Case {
    const char* scheduler;
    const char* json;
    const char* mentions;
  };
  for (const Case& c : std::vector<Case>{
           {"ddim", R"({"beta_schedule": "cubic"})", "cubic"},
           {"euler", R"({"timestep_spacing": "sideways"})", "sideways"},
           {"dpmpp_2m", R"({"prediction_type": "noise"})", "noise"},
           {"euler_ancestral", R"({"prediction_type": "sample"})", "sample"},
           {"euler", R"({"interpolation_type": "cubic"})", "cubic"},
           {"DPMSolverMultistepScheduler", R"({"solver_order": 4})",
            "solver_order"},
           {"DPMSolverMultistepScheduler", R"({"algorithm_type": "magic"})",
            "magic"},
           {"ddim", R"({"trained_betas": [0.1, 0.2]})", "trained_betas"},
           {"ddim", R"({"num_train_timesteps": 0})", "num_train_timesteps"},
       }) {
    auto config = ParseSchedulerConfig(Json::parse(c.json));
    ASSERT_TRUE(config.ok()) << config.status();
    auto s = MakeScheduler(c.scheduler, *config);
    ASSERT_FALSE(s.ok()) << c.scheduler << " " << c.json;
    EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(s.status().message().find(c.mentions), absl::string_view::npos)
        << s.status();
  }
}

TEST(SchedulerConfigTest, BadStepCounts) {
  for (const std::string name : SchedulerNames()) {
    auto s = MakeScheduler(name, SchedulerConfig());
    ASSERT_TRUE(s.ok()) << name << ": " << s.status();
    for (int64_t n : {0, -3, 1001}) {
      const absl::Status st = (*s)->SetTimesteps(n);
      EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << name << n;
      EXPECT_NE(st.message().find("num_inference_steps"),
                absl::string_view::npos)
          << st;
    }
    EXPECT_TRUE((*s)->SetTimesteps(1000).ok()) << name;
    EXPECT_TRUE((*s)->SetTimesteps(1).ok()) << name;
  }
}

TEST(SchedulerConfigTest, StepMisuseIsAnError) {
  for (const std::string name : SchedulerNames()) {
    auto s = MakeScheduler(name, SchedulerConfig());
    ASSERT_TRUE(s.ok()) << s.status();
    const torch::Tensor x = torch::zeros({1, 4, 2, 2});
    EXPECT_EQ((*s)->Step(x, 0, x, nullptr).status().code(),
              absl::StatusCode::kFailedPrecondition)
        << name;
    ASSERT_TRUE((*s)->SetTimesteps(3).ok());
    EXPECT_EQ((*s)->Step(x, 3, x, nullptr).status().code(),
              absl::StatusCode::kOutOfRange)
        << name;
    EXPECT_EQ((*s)->ScaleModelInput(x, -1).status().code(),
              absl::StatusCode::kOutOfRange)
        << name;
    EXPECT_EQ(
        (*s)->Step(torch::zeros({1, 4, 2, 3}), 0, x, nullptr).status().code(),
        absl::StatusCode::kInvalidArgument)
        << name;
  }
  // The multistep solver keeps history, so steps come in order.
  auto dpm = MakeScheduler("dpmpp_2m", SchedulerConfig());
  ASSERT_TRUE(dpm.ok());
  ASSERT_TRUE((*dpm)->SetTimesteps(3).ok());
  const torch::Tensor x = torch::ones({1, 4, 2, 2});
  EXPECT_EQ((*dpm)->Step(x, 1, x, nullptr).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE((*dpm)->Step(x, 0, x, nullptr).ok());
}

TEST(SchedulerConfigTest, TrailingArangeQuirkIsRefused) {
  // numpy's arange(1000, 0, -1000/61) has 62 points; diffusers then uses
  // timestep -1. Refuse instead of denoising from the wrong end.
  SchedulerConfig c;
  c.timestep_spacing = "trailing";
  for (const std::string name : SchedulerNames()) {
    auto s = MakeScheduler(name, c);
    ASSERT_TRUE(s.ok()) << s.status();
    EXPECT_EQ((*s)->SetTimesteps(61).code(), absl::StatusCode::kInvalidArgument)
        << name;
    EXPECT_TRUE((*s)->SetTimesteps(60).ok()) << name;
  }
}

}  // namespace
}  // namespace reelfarm::pipeline
