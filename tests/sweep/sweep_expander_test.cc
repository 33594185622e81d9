#include "sweep/sweep_expander.h"

#include <gtest/gtest.h>

#include <set>

#include "sweep/job_id.h"
#include "tests/coordinator/test_specs.h"

namespace reelfarm {
namespace {

using testing_specs::GridSpec;

TEST(SweepExpanderTest, GridOrderIsFirstGroupOutermost) {
  auto ex = SweepExpander::Create(GridSpec(2, 3, "/out"));
  ASSERT_TRUE(ex.ok()) << ex.status();
  ASSERT_EQ(ex->size(), 6u);
  v1::RenderParams p;
  int block = -1;
  ex->ParamsAt(0, &p, &block);
  EXPECT_EQ(p.prompt(), "prompt 0");
  EXPECT_EQ(p.seed(), 1000u);
  EXPECT_EQ(block, 0);
  ex->ParamsAt(4, &p, &block);
  EXPECT_EQ(p.prompt(), "prompt 1");
  EXPECT_EQ(p.seed(), 1001u);
  EXPECT_EQ(p.width(), 16u);  // from the block's base
}

TEST(SweepExpanderTest, ZippedAxesAdvanceTogether) {
  v1::SweepSpec spec = GridSpec(3, 1, "/out");
  v1::AxisGroup* zip = spec.mutable_blocks(0)->mutable_groups(0);
  v1::Axis* neg = zip->add_axes();
  neg->set_field("n_prompt");
  for (const char* n : {"a", "b", "c"}) neg->add_values()->set_text(n);
  auto ex = SweepExpander::Create(spec);
  ASSERT_TRUE(ex.ok()) << ex.status();
  EXPECT_EQ(ex->size(), 3u);
  v1::RenderParams p;
  ex->ParamsAt(2, &p, nullptr);
  EXPECT_EQ(p.prompt(), "prompt 2");
  EXPECT_EQ(p.negative_prompt(), "c");
}

TEST(SweepExpanderTest, RejectsMismatchedZipAndBadValues) {
  v1::SweepSpec spec = GridSpec(3, 1, "/out");
  v1::Axis* neg = spec.mutable_blocks(0)->mutable_groups(0)->add_axes();
  neg->set_field("n_prompt");
  neg->add_values()->set_text("only one");
  EXPECT_EQ(SweepExpander::Create(spec).status().code(),
            absl::StatusCode::kInvalidArgument);

  v1::SweepSpec typed = GridSpec(1, 1, "/out");
  v1::Axis* steps = typed.mutable_blocks(0)->add_groups()->add_axes();
  steps->set_field("steps");
  steps->add_values()->set_text("twenty");
  EXPECT_EQ(SweepExpander::Create(typed).status().code(),
            absl::StatusCode::kInvalidArgument);

  v1::SweepSpec unknown = GridSpec(1, 1, "/out");
  unknown.mutable_blocks(0)->add_groups()->add_axes()->set_field("colour");
  EXPECT_EQ(SweepExpander::Create(unknown).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(SweepExpanderTest, IdsAreStableAndOnlyTouchedJobsChange) {
  auto a = SweepExpander::Create(GridSpec(2, 3, "/out"));
  auto b = SweepExpander::Create(GridSpec(2, 3, "/somewhere/else"));
  ASSERT_TRUE(a.ok() && b.ok());
  std::set<std::string> ids;
  for (uint64_t i = 0; i < a->size(); ++i) {
    EXPECT_EQ(a->JobIdAt(i), b->JobIdAt(i));  // outputs do not change pixels
    ids.insert(a->JobIdAt(i));
  }
  EXPECT_EQ(ids.size(), 6u);

  v1::SweepSpec changed = GridSpec(2, 3, "/out");
  changed.mutable_blocks(0)
      ->mutable_groups(1)
      ->mutable_axes(0)
      ->mutable_values(1)
      ->set_unsigned_integer(77);
  auto c = SweepExpander::Create(changed);
  ASSERT_TRUE(c.ok());
  int differing = 0;
  for (uint64_t i = 0; i < a->size(); ++i) {
    differing += a->JobIdAt(i) != c->JobIdAt(i);
  }
  EXPECT_EQ(differing, 2);  // seed index 1, under both prompts
}

TEST(JobIdTest, ModelDigestCountsButItsPathDoesNot) {
  v1::RenderParams p;
  p.set_prompt("a cat");
  p.mutable_models()->mutable_base()->set_path("/models/sd15");
  p.mutable_models()->mutable_base()->set_digest("sha256:aa");
  v1::RenderParams moved = p;
  moved.mutable_models()->mutable_base()->set_path("/elsewhere/sd15");
  v1::RenderParams retrained = p;
  retrained.mutable_models()->mutable_base()->set_digest("sha256:bb");
  EXPECT_EQ(JobIdFor(p, "animatediff"), JobIdFor(moved, "animatediff"));
  EXPECT_NE(JobIdFor(p, "animatediff"), JobIdFor(retrained, "animatediff"));
  EXPECT_NE(JobIdFor(p, "animatediff"), JobIdFor(p, "test-pattern"));
  EXPECT_EQ(JobIdFor(p, "x").size(), 24u);
}

TEST(JobIdTest, OutputNamesAreSafe) {
  v1::RenderParams p;
  p.set_prompt(std::string("../../etc/passwd\0 A Cat, by /dev/null!", 38));
  const std::string name = JobOutputName(p, "0123456789abcdef01234567");
  EXPECT_EQ(name.find('/'), std::string::npos);
  EXPECT_EQ(name.find(".."), std::string::npos);
  EXPECT_EQ(name.rfind("etc-passwd", 0), 0u);
  EXPECT_EQ(name.substr(name.size() - 12), "0123456789ab");
  p.set_prompt(std::string(10000, 'x'));
  EXPECT_EQ(JobOutputName(p, "0123456789abcdef").size(), 40u + 1u + 12u);
  p.set_prompt("日本語");
  EXPECT_EQ(JobOutputName(p, "0123456789abcdef"), "job-0123456789ab");
}

}  // namespace
}  // namespace reelfarm
