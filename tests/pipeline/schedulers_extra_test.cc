// The cases reference/schedulers.json does not record, against diffusers
// v0.30.3 runs saved by make_schedulers_extra_reference.py: Euler ancestral,
// Karras and Lu sigmas, leading/trailing spacing, DDIM's set_alpha_to_one,
// clip_sample, v-prediction, zero-SNR and eta, DPM-Solver 3M/heun and SDE.
// Same tolerances as the fixture cases.
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>
#include <iostream>

#include "node/pipeline/schedulers/ddim.h"
#include "node/pipeline/schedulers/scheduler_factory.h"
#include "tests/pipeline/fixtures.h"

namespace reelfarm::pipeline {
namespace {

using Json = nlohmann::json;
constexpr double kTol = 1e-5;

const Json& Extra() {
  static const Json* json = [] {
    std::ifstream in(REELFARM_SCHEDULERS_EXTRA_REFERENCE);
    auto* j = new Json(Json::parse(in, nullptr, /*allow_exceptions=*/false));
    return j;
  }();
  return *json;
}

torch::Tensor Floats(const Json& values, std::vector<int64_t> shape = {-1}) {
  return torch::tensor(values.get<std::vector<float>>()).reshape(shape);
}

::testing::AssertionResult Close(const std::string& what,
                                 const torch::Tensor& out,
                                 const torch::Tensor& ref) {
  const auto c = testing::Compare(out, ref);
  std::cout << "  " << what << ": rel_l2 " << c.rel_l2 << " max_abs "
            << c.max_abs << " (limit " << kTol * std::max(1.0, c.max_ref)
            << ")\n";
  return testing::IsClose(out, ref, kTol, kTol);
}

class SchedulersExtraTest : public ::testing::TestWithParam<std::string> {
 protected:
  const Json& Case() const { return Extra()["cases"][GetParam()]; }

  // The fixture's scheduler_config.json with the case's from_config kwargs.
  SchedulerConfig Config() const {
    std::ifstream in(
        testing::FixturePath("pipeline/scheduler/scheduler_config.json"));
    Json merged = Json::parse(in);
    merged.update(Case()["overrides"]);
    auto config = ParseSchedulerConfig(merged);
    EXPECT_TRUE(config.ok()) << config.status();
    return config.ok() ? *config : SchedulerConfig();
  }

  std::unique_ptr<Scheduler> Make() const {
    const std::string cls = Case()["class"];
    if (Case()["step_kwargs"].contains("eta")) {
      auto s = DdimScheduler::Create(
          Config(), Case()["step_kwargs"]["eta"].get<double>());
      EXPECT_TRUE(s.ok()) << s.status();
      return s.ok() ? *std::move(s) : nullptr;
    }
    auto s = MakeScheduler(cls, Config());
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? *std::move(s) : nullptr;
  }
};

TEST_P(SchedulersExtraTest, TimestepsAndSigmas) {
  for (const auto& [n, expected] : Case()["timesteps"].items()) {
    SCOPED_TRACE("steps " + n);
    std::unique_ptr<Scheduler> s = Make();
    ASSERT_NE(s, nullptr);
    ASSERT_TRUE(s->SetTimesteps(std::stoi(n)).ok());
    const torch::Tensor& t = s->timesteps();
    ASSERT_EQ(t.size(0), static_cast<int64_t>(expected.size()));
    if (t.scalar_type() == torch::kInt64) {
      EXPECT_TRUE(
          torch::equal(t, torch::tensor(expected.get<std::vector<int64_t>>())))
          << t;
    } else {
      EXPECT_TRUE(Close(GetParam() + ".timesteps." + n, t, Floats(expected)));
    }
    if (Case()["sigmas"].contains(n)) {
      EXPECT_TRUE(Close(GetParam() + ".sigmas." + n, s->sigmas(),
                        Floats(Case()["sigmas"][n])));
    }
  }
  if (Case().contains("alphas_cumprod")) {
    std::unique_ptr<Scheduler> s = Make();
    ASSERT_NE(s, nullptr);
    EXPECT_TRUE(Close(GetParam() + ".alphas_cumprod",
                      s->noise_schedule().alphas_cumprod,
                      Floats(Case()["alphas_cumprod"])));
  }
}

TEST_P(SchedulersExtraTest, Trajectory) {
  if (!Case().contains("x")) GTEST_SKIP() << "no trajectory recorded";
  const auto ref = testing::LoadReferenceTensors("schedulers");
  const torch::Tensor& x0 = ref.at("initial_sample");
  const torch::Tensor& fake = ref.at("fake_model_outputs");
  const auto shape = Extra()["sample_shape"].get<std::vector<int64_t>>();

  std::unique_ptr<Scheduler> s = Make();
  ASSERT_NE(s, nullptr);
  // The trajectory's step count is the largest recorded step + 1.
  int64_t steps = 0;
  for (const auto& [i, unused] : Case()["x"].items()) {
    steps = std::max<int64_t>(steps, std::stoi(i) + 1);
  }
  ASSERT_TRUE(s->SetTimesteps(steps).ok());
  EXPECT_FLOAT_EQ(static_cast<float>(s->init_noise_sigma()),
                  Case()["init_noise_sigma"].get<float>());

  at::Generator gen = at::detail::createCPUGenerator(0);
  torch::Tensor x = x0 * s->init_noise_sigma();
  for (int64_t i = 0; i < s->num_steps(); ++i) {
    const std::string key = std::to_string(i);
    auto input = s->ScaleModelInput(x, i);
    ASSERT_TRUE(input.ok()) << input.status();
    if (Case()["model_input"].contains(key)) {
      EXPECT_TRUE(Close(GetParam() + ".model_input." + key, *input,
                        Floats(Case()["model_input"][key], shape)));
    }
    auto out = s->Step(fake[i % 5], i, x, &gen);
    ASSERT_TRUE(out.ok()) << out.status();
    x = out->prev_sample;
    if (Case()["x"].contains(key)) {
      EXPECT_TRUE(
          Close(GetParam() + ".x." + key, x, Floats(Case()["x"][key], shape)));
    }
  }
}

std::vector<std::string> CaseNames() {
  std::vector<std::string> names;
  if (!Extra().is_object()) {
    ADD_FAILURE() << "cannot read " << REELFARM_SCHEDULERS_EXTRA_REFERENCE;
    return names;
  }
  for (const auto& [name, unused] : Extra()["cases"].items()) {
    names.push_back(name);
  }
  return names;
}

INSTANTIATE_TEST_SUITE_P(Diffusers, SchedulersExtraTest,
                         ::testing::ValuesIn(CaseNames()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

TEST(SchedulersShortNamesTest, Dpmpp2mKarrasIsDpmSolverWithKarrasSigmas) {
  SchedulerConfig plain;
  SchedulerConfig karras;
  karras.use_karras_sigmas = true;
  auto by_name = MakeScheduler("dpmpp_2m_karras", plain);
  auto by_class = MakeScheduler("DPMSolverMultistepScheduler", karras);
  ASSERT_TRUE(by_name.ok() && by_class.ok());
  ASSERT_TRUE((*by_name)->SetTimesteps(20).ok());
  ASSERT_TRUE((*by_class)->SetTimesteps(20).ok());
  EXPECT_TRUE(torch::equal((*by_name)->timesteps(), (*by_class)->timesteps()));
  EXPECT_TRUE(torch::equal((*by_name)->sigmas(), (*by_class)->sigmas()));
}

}  // namespace
}  // namespace reelfarm::pipeline
