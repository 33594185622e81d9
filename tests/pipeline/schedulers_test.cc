// The schedulers against diffusers 0.30.3 (reference/schedulers.*) within
// VERIFY.md's tolerances: int64 timesteps exact, float tensors rel_l2 and
// max_abs (relative to max(1, max|ref|)) <= 1e-5.
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

using testing::Compare;
using testing::FixturePath;
using testing::IsClose;

constexpr double kTol = 1e-5;

class SchedulersTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ref_ = new TensorMap(testing::LoadReferenceTensors("schedulers"));
    json_ = new nlohmann::json(testing::LoadReferenceJson("schedulers"));
  }
  static void TearDownTestSuite() {
    delete ref_;
    delete json_;
  }

  static const torch::Tensor& Ref(const std::string& key) {
    static const torch::Tensor missing;
    auto it = ref_->find(key);
    if (it == ref_->end()) {
      ADD_FAILURE() << "reference tensor " << key << " missing";
      return missing;
    }
    return it->second;
  }

  // The fixture pipeline's scheduler_config.json (AnimateDiff's DDIM
  // settings), which every case builds from.
  static SchedulerConfig FixtureConfig() {
    std::ifstream in(FixturePath("pipeline/scheduler/scheduler_config.json"));
    auto config = ParseSchedulerConfig(nlohmann::json::parse(in));
    EXPECT_TRUE(config.ok()) << config.status();
    return config.ok() ? *config : SchedulerConfig();
  }

  static std::unique_ptr<Scheduler> Make(const std::string& name) {
    auto s = MakeScheduler(name, FixtureConfig());
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? *std::move(s) : nullptr;
  }

  // IsClose with VERIFY.md's float tolerance, logging the margin.
  static ::testing::AssertionResult Close(const std::string& what,
                                          const torch::Tensor& out,
                                          const torch::Tensor& ref) {
    if (!out.defined() || !ref.defined()) {
      return ::testing::AssertionFailure() << what << ": undefined tensor";
    }
    auto c = Compare(out.to(torch::kCPU), ref);
    std::cout << "  " << what << ": rel_l2 " << c.rel_l2 << " max_abs "
              << c.max_abs << " (limit " << kTol * std::max(1.0, c.max_ref)
              << ")\n";
    return IsClose(out.to(torch::kCPU), ref, kTol, kTol);
  }

  // Runs the fixture's 5-step trajectory for `name` under `prefix`.
  static void CheckTrajectory(const std::string& name,
                              const std::string& prefix) {
    std::unique_ptr<Scheduler> s = Make(name);
    ASSERT_NE(s, nullptr);
    ASSERT_TRUE(s->SetTimesteps(5).ok());
    const torch::Tensor& ref_t = Ref(prefix + ".traj.timesteps");
    ASSERT_TRUE(ref_t.defined());
    ASSERT_EQ(s->timesteps().scalar_type(), ref_t.scalar_type());
    EXPECT_TRUE(torch::equal(s->timesteps(), ref_t)) << s->timesteps();
    EXPECT_EQ(static_cast<float>(s->init_noise_sigma()),
              Ref(prefix + ".traj.init_noise_sigma").item<float>());

    const torch::Tensor& fake = Ref("fake_model_outputs");
    at::Generator gen = at::detail::createCPUGenerator(0);
    torch::Tensor x = Ref("initial_sample") * s->init_noise_sigma();
    EXPECT_TRUE(
        Close(prefix + ".traj.x_init", x, Ref(prefix + ".traj.x_init")));
    for (int64_t i = 0; i < s->num_steps(); ++i) {
      const std::string n = std::to_string(i);
      auto input = s->ScaleModelInput(x, i);
      ASSERT_TRUE(input.ok()) << input.status();
      EXPECT_TRUE(Close(prefix + ".traj.model_input." + n, *input,
                        Ref(prefix + ".traj.model_input." + n)));
      auto out = s->Step(fake[i], i, x, &gen);
      ASSERT_TRUE(out.ok()) << out.status();
      x = out->prev_sample;
      EXPECT_TRUE(
          Close(prefix + ".traj.x." + n, x, Ref(prefix + ".traj.x." + n)));
    }
  }

  static void CheckTimestepsAndSigmas(const std::string& name,
                                      const std::string& prefix,
                                      bool has_sigmas) {
    for (int n : {4, 5, 25, 50}) {
      SCOPED_TRACE(prefix + " n=" + std::to_string(n));
      std::unique_ptr<Scheduler> s = Make(name);
      ASSERT_NE(s, nullptr);
      ASSERT_TRUE(s->SetTimesteps(n).ok());
      const std::string key = prefix + ".timesteps.n" + std::to_string(n);
      const torch::Tensor& ref = Ref(key);
      ASSERT_TRUE(ref.defined());
      ASSERT_EQ(s->timesteps().scalar_type(), ref.scalar_type());
      if (ref.scalar_type() == torch::kInt64) {
        EXPECT_TRUE(torch::equal(s->timesteps(), ref))
            << s->timesteps() << " vs " << ref;
      } else {
        EXPECT_TRUE(Close(key, s->timesteps(), ref));
      }
      // The JSON lists the same timesteps.
      const auto& listed = (*json_)["timesteps"][prefix][std::to_string(n)];
      ASSERT_EQ(listed.size(), static_cast<size_t>(s->num_steps()));
      for (int64_t i = 0; i < s->num_steps(); ++i) {
        EXPECT_EQ(s->timesteps()[i].item<double>(), listed[i].get<double>());
      }
      if (has_sigmas) {
        const std::string skey = prefix + ".sigmas.n" + std::to_string(n);
        EXPECT_TRUE(Close(skey, s->sigmas(), Ref(skey)));
      }
    }
  }

  static TensorMap* ref_;
  static nlohmann::json* json_;
};

TensorMap* SchedulersTest::ref_ = nullptr;
nlohmann::json* SchedulersTest::json_ = nullptr;

TEST_F(SchedulersTest, FixtureConfigParses) {
  const SchedulerConfig c = FixtureConfig();
  EXPECT_EQ(c.num_train_timesteps, 1000);
  EXPECT_EQ(c.beta_start, 0.00085);
  EXPECT_EQ(c.beta_end, 0.012);
  EXPECT_EQ(c.beta_schedule, "linear");
  EXPECT_FALSE(c.trained_betas.has_value());
  EXPECT_EQ(c.clip_sample, false);
  EXPECT_EQ(c.set_alpha_to_one, false);
  EXPECT_EQ(c.steps_offset, 1);
  EXPECT_EQ(c.timestep_spacing, "linspace");
  EXPECT_EQ(c.prediction_type, "epsilon");
}

TEST_F(SchedulersTest, DdimBetasAndAlphasCumprod) {
  std::unique_ptr<Scheduler> s = Make("ddim");
  ASSERT_NE(s, nullptr);
  EXPECT_TRUE(
      Close("ddim.betas", s->noise_schedule().betas, Ref("ddim.betas")));
  EXPECT_TRUE(Close("ddim.alphas_cumprod", s->noise_schedule().alphas_cumprod,
                    Ref("ddim.alphas_cumprod")));
  // Every scheduler shares the training schedule.
  for (const std::string name : {"euler", "euler_ancestral", "dpmpp_2m"}) {
    std::unique_ptr<Scheduler> other = Make(name);
    ASSERT_NE(other, nullptr);
    EXPECT_TRUE(Close(name + ".alphas_cumprod",
                      other->noise_schedule().alphas_cumprod,
                      Ref("ddim.alphas_cumprod")));
  }
}

TEST_F(SchedulersTest, DdimTimesteps) {
  CheckTimestepsAndSigmas("ddim", "ddim", /*has_sigmas=*/false);
}

TEST_F(SchedulersTest, DdimTrajectory) { CheckTrajectory("ddim", "ddim"); }

TEST_F(SchedulersTest, DdimSingleStepAtTimestep) {
  auto s = DdimScheduler::Create(FixtureConfig());
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_TRUE((*s)->SetTimesteps(5).ok());
  const int64_t t = (*s)->timesteps()[1].item<int64_t>();
  EXPECT_EQ(t, Ref("ddim.single_step.t").item<int64_t>());
  auto out = (*s)->StepAtTimestep(Ref("fake_model_outputs")[0], t,
                                  Ref("initial_sample"), nullptr);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_TRUE(Close("ddim.single_step.prev_sample", out->prev_sample,
                    Ref("ddim.single_step.prev_sample")));
  EXPECT_TRUE(Close("ddim.single_step.pred_original_sample",
                    out->pred_original_sample,
                    Ref("ddim.single_step.pred_original_sample")));
}

TEST_F(SchedulersTest, EulerTimestepsAndSigmas) {
  CheckTimestepsAndSigmas("euler", "euler", /*has_sigmas=*/true);
}

TEST_F(SchedulersTest, EulerTrajectory) { CheckTrajectory("euler", "euler"); }

TEST_F(SchedulersTest, DpmSolverTimestepsAndSigmas) {
  CheckTimestepsAndSigmas("dpmpp_2m", "dpmpp_2m", /*has_sigmas=*/true);
}

TEST_F(SchedulersTest, DpmSolverTrajectory) {
  CheckTrajectory("dpmpp_2m", "dpmpp_2m");
}

}  // namespace
}  // namespace reelfarm::pipeline
