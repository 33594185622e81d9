// Seeds drawn for -1 are recorded, the same text always gives the same
// spec and job ids, and one changed value changes only the ids it touches.
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "sweep/sweep_expander.h"
#include "sweep/sweep_loader.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "tests/sweep/test_util.h"

namespace reelfarm::config {
namespace {

using testing_util::NoModelCheck;
using testing_util::ScopedCwd;
using testing_util::ScratchDir;

std::vector<std::string> JobIds(const v1::SweepSpec& spec) {
  absl::StatusOr<SweepExpander> ex = SweepExpander::Create(spec);
  EXPECT_TRUE(ex.ok()) << ex.status();
  std::vector<std::string> ids;
  for (uint64_t i = 0; ex.ok() && i < ex->size(); ++i) {
    ids.push_back(ex->JobIdAt(i));
  }
  return ids;
}

TEST(DeterminismTest, SeedMinusOneUsesTheInjectedDrawAndIsRecorded) {
  int calls = 0;
  LoadOptions options = NoModelCheck();
  options.draw_seed = [&calls] { return 7000 + calls++; };
  absl::StatusOr<v1::SweepSpec> spec = ParseSweepText(R"(
renderer: test-pattern
defaults: {prompt: x, steps: 2, guidance_scale: 7}
grid:
  seed: [-1, 5, -1]
)",
                                                      "s.yaml", options);
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(std::vector<uint64_t>(spec->drawn_seeds().begin(),
                                  spec->drawn_seeds().end()),
            (std::vector<uint64_t>{7000, 7001}));
  const v1::Axis& seeds = spec->blocks(0).groups(0).axes(0);
  EXPECT_EQ(seeds.values(0).unsigned_integer(), 7000u);
  EXPECT_EQ(seeds.values(1).unsigned_integer(), 5u);
  EXPECT_EQ(seeds.values(2).unsigned_integer(), 7001u);
}

TEST(DeterminismTest, DefaultDrawIsRandom) {
  LoadOptions options;
  options.check_model_paths = false;
  absl::StatusOr<v1::SweepSpec> a =
      ParseSweepText("- {steps: 2, guidance_scale: 7, prompt: [x], seed: -1}",
                     "r.yaml", options);
  absl::StatusOr<v1::SweepSpec> b =
      ParseSweepText("- {steps: 2, guidance_scale: 7, prompt: [x], seed: -1}",
                     "r.yaml", options);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_EQ(a->drawn_seeds_size(), 1);
  ASSERT_EQ(b->drawn_seeds_size(), 1);
  // 2^-64 chance of a false failure.
  EXPECT_NE(a->drawn_seeds(0), b->drawn_seeds(0));
}

constexpr char kSweep[] = R"(
- motion_module: [mm_a.ckpt, mm_b.ckpt]
  dreambooth_path: db.safetensors
  steps: 20
  guidance_scale: 7.5
  prompt: [a red kite, a blue kite, a green kite]
  n_prompt: [blurry]
  seed: [1, 2, 3]
)";

TEST(DeterminismTest, SameTextSameSpecAndIds) {
  ScratchDir dir;
  for (const char* f : {"mm_a.ckpt", "mm_b.ckpt", "db.safetensors"}) {
    dir.Write(f, f);
  }
  ScopedCwd cwd(dir.path());
  LoadOptions options;
  options.renderer = "test-pattern";
  absl::StatusOr<v1::SweepSpec> a = ParseSweepText(kSweep, "k.yaml", options);
  absl::StatusOr<v1::SweepSpec> b = ParseSweepText(kSweep, "k.yaml", options);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*a, *b));
  const std::vector<std::string> ids = JobIds(*a);
  ASSERT_EQ(ids.size(), 6u);
  EXPECT_EQ(ids, JobIds(*b));
  // All distinct.
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), ids.size());
}

TEST(DeterminismTest, ChangingOneSeedChangesOnlyItsJobs) {
  LoadOptions options = NoModelCheck();
  options.renderer = "test-pattern";
  std::string changed = kSweep;
  changed.replace(changed.find("[1, 2, 3]"), 9, "[1, 2, 4]");
  absl::StatusOr<v1::SweepSpec> a = ParseSweepText(kSweep, "k.yaml", options);
  absl::StatusOr<v1::SweepSpec> b = ParseSweepText(changed, "k.yaml", options);
  ASSERT_TRUE(a.ok() && b.ok());
  const std::vector<std::string> before = JobIds(*a);
  const std::vector<std::string> after = JobIds(*b);
  ASSERT_EQ(before.size(), after.size());
  for (size_t i = 0; i < before.size(); ++i) {
    // Jobs 2 and 5 are the third prompt (seed 3 -> 4) under each module.
    if (i % 3 == 2) {
      EXPECT_NE(before[i], after[i]) << i;
    } else {
      EXPECT_EQ(before[i], after[i]) << i;
    }
  }
}

}  // namespace
}  // namespace reelfarm::config
