// The context-window keys in both config forms, and what they do to job ids.
#include <string>

#include "sweep/job_id.h"
#include "sweep/sweep_expander.h"
#include "sweep/sweep_loader.h"
#include "gtest/gtest.h"
#include "tests/sweep/test_util.h"

namespace reelfarm::config {
namespace {

using testing_util::ErrorIs;
using testing_util::NoModelCheck;

LoadOptions TestPattern() {
  LoadOptions options = NoModelCheck();
  options.renderer = "test-pattern";
  return options;
}

absl::StatusOr<v1::SweepSpec> Parse(const std::string& yaml) {
  return ParseSweepText(yaml, "sweep.yaml", TestPattern());
}

std::vector<v1::RenderParams> Jobs(const v1::SweepSpec& spec) {
  auto expander = SweepExpander::Create(spec);
  EXPECT_TRUE(expander.ok()) << expander.status();
  std::vector<v1::RenderParams> jobs;
  for (uint64_t i = 0; expander.ok() && i < expander->size(); ++i) {
    int block = 0;
    jobs.emplace_back();
    expander->ParamsAt(i, &jobs.back(), &block);
  }
  return jobs;
}

TEST(ContextKeysTest, ReelfarmFormDefaultsAndGrid) {
  auto spec = Parse(R"(
defaults: {prompt: a, steps: 2, guidance_scale: 7, seed: 1, L: 64,
           context_length: 12, context_fuse: flat, context_loop: true,
           free_noise: true, devices_per_video: 2, split_frames: true}
grid: {context_stride: [2, 3]}
)");
  ASSERT_TRUE(spec.ok()) << spec.status();
  const std::vector<v1::RenderParams> jobs = Jobs(*spec);
  ASSERT_EQ(jobs.size(), 2u);
  EXPECT_EQ(jobs[0].context_length(), 12u);
  EXPECT_EQ(jobs[0].context_stride(), 2u);
  EXPECT_EQ(jobs[1].context_stride(), 3u);
  EXPECT_EQ(jobs[0].context_fuse(), "flat");
  EXPECT_TRUE(jobs[0].context_loop());
  EXPECT_TRUE(jobs[0].free_noise());
  EXPECT_EQ(jobs[0].devices_per_video(), 2u);
  EXPECT_TRUE(jobs[0].split_frames());
  EXPECT_NE(JobIdFor(jobs[0], "x"), JobIdFor(jobs[1], "x"));
}

TEST(ContextKeysTest, AnimateDiffEntryTakesThem) {
  auto spec = Parse(R"(
- prompt: [a bee]
  steps: 3
  guidance_scale: 7
  context_length: 8
  context_stride: 2
  free_noise: true
  split_frames: true
)");
  ASSERT_TRUE(spec.ok()) << spec.status();
  const v1::RenderParams& base = spec->blocks(0).base();
  EXPECT_EQ(base.context_length(), 8u);
  EXPECT_EQ(base.context_stride(), 2u);
  EXPECT_TRUE(base.free_noise());
  EXPECT_FALSE(base.context_loop());
  EXPECT_TRUE(base.split_frames());
}

TEST(ContextKeysTest, BadValuesAreLocatedErrors) {
  EXPECT_TRUE(ErrorIs(
      Parse("defaults: {prompt: a, steps: 2, guidance_scale: 7, "
            "context_fuse: gaussian}\n")
          .status(),
      absl::StatusCode::kInvalidArgument, "sweep.yaml:1:", "pyramid or flat"));
  EXPECT_TRUE(ErrorIs(Parse("defaults: {prompt: a, steps: 2, guidance_scale: "
                            "7, free_noise: maybe}\n")
                          .status(),
                      absl::StatusCode::kInvalidArgument,
                      "sweep.yaml:1:", "true or false"));
  EXPECT_TRUE(ErrorIs(Parse("defaults: {prompt: a, steps: 2, guidance_scale: "
                            "7, context_length: 0}\n")
                          .status(),
                      absl::StatusCode::kInvalidArgument,
                      "sweep.yaml:1:", "positive integer"));
}

TEST(ContextKeysTest, JobIdsChangeOnlyAwayFromDefaults) {
  auto id_of = [](const std::string& extra) {
    auto spec = Parse(
        "defaults: {prompt: a, steps: 2, guidance_scale: 7, "
        "seed: 5, L: 48" +
        extra + "}\n");
    EXPECT_TRUE(spec.ok()) << spec.status();
    return spec.ok() ? JobIdFor(Jobs(*spec).at(0), "animatediff") : "";
  };
  const std::string plain = id_of("");
  // The id a sweep without the keys had before they existed.
  v1::RenderParams p;
  p.set_prompt("a");
  p.set_steps(2);
  p.set_guidance_scale(7);
  p.set_seed(5);
  p.set_frames(48);
  p.set_width(512);
  p.set_height(512);
  p.set_scheduler("ddim");
  EXPECT_EQ(CanonicalRenderBytes(p, "animatediff").find("ctx"),
            std::string::npos);
  EXPECT_EQ(id_of(", context_length: 16, context_stride: 4, context_fuse: "
                  "pyramid, context_loop: false, free_noise: false"),
            plain);
  EXPECT_EQ(id_of(", devices_per_video: 4"), plain);
  EXPECT_EQ(id_of(", devices_per_video: 4, split_frames: true"), plain);
  EXPECT_NE(id_of(", context_length: 24"), plain);
  EXPECT_NE(id_of(", context_stride: 8"), plain);
  EXPECT_NE(id_of(", context_fuse: flat"), plain);
  EXPECT_NE(id_of(", context_loop: true"), plain);
  EXPECT_NE(id_of(", free_noise: true"), plain);
}

}  // namespace
}  // namespace reelfarm::config
