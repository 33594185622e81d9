// Prompts chosen to escape the output folder, and output names a hostile or
// broken coordinator might send: every output lands inside the sweep's
// folder under a plain name, or nothing is written at all.

#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "common/safe_path.h"
#include "node/outputs/output_publisher.h"
#include "node/renderers/test_pattern_renderer.h"
#include "sweep/job_id.h"

namespace reelfarm {
namespace {

namespace fs = std::filesystem;

class NeverCancelled : public RenderContext {
 public:
  bool Cancelled() const override { return false; }
  void ReportProgress(double) override {}
};

v1::Job JobFor(const std::string& prompt, const std::string& output_dir) {
  v1::Job job;
  v1::RenderParams* p = job.mutable_params();
  p->set_prompt(prompt);
  p->set_seed(1);
  p->set_width(8);
  p->set_height(8);
  p->set_frames(1);
  p->set_steps(1);
  p->set_guidance_scale(7);
  job.mutable_renderer()->set_name("test-pattern");
  job.set_id(JobIdFor(*p, "test-pattern"));
  job.set_output_dir(output_dir);
  job.set_output_name(JobOutputName(*p, job.id()));
  return job;
}

Video RenderOf(const v1::Job& job) {
  TestPatternRenderer renderer(0);
  NeverCancelled ctx;
  absl::StatusOr<Video> video = renderer.Render(job, ctx);
  EXPECT_TRUE(video.ok()) << video.status();
  return *video;
}

std::set<std::string> Entries(const fs::path& dir) {
  std::set<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) {
    names.insert(e.path().filename().string());
  }
  return names;
}

class OutputPathsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The sweep writes into sandbox/out; anything else appearing in the
    // sandbox (or above it) escaped.
    sandbox_ =
        fs::path(::testing::TempDir()) /
        (std::string("output_paths_") +
         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(sandbox_);
    fs::create_directories(sandbox_ / "out");
    out_ = fs::canonical(sandbox_ / "out");
  }
  fs::path sandbox_;
  fs::path out_;
};

TEST_F(OutputPathsTest, HostilePromptsLandInsideUnderSaneNames) {
  const std::string e_acute = "\xc3\xa9";
  std::string long_unicode;
  for (int i = 0; i < 5000; ++i) long_unicode += e_acute;
  struct Case {
    std::string prompt;
    std::string slug;  // the name before "-<12 hex>"
  };
  const std::vector<Case> cases = {
      {"../../../../etc/passwd", "etc-passwd"},
      {"/etc/passwd", "etc-passwd"},
      {std::string("safe\0/../../x", 13), "safe-x"},
      {std::string(10000, 'a'), std::string(40, 'a')},
      {long_unicode, "job"},
      {"CON", "con"},
      {"nul.txt", "nul-txt"},
      {"..", "job"},
      {".", "job"},
      {"a cat, \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e, caf\xc3\xa9", "a-cat-caf"},
      {"\x1b[31mred\x07", "31mred"},
      {"-rf --no-preserve-root", "rf-no-preserve-root"},
      {"..\\..\\windows\\system32", "windows-system32"},
      {"trailing. . .", "trailing"},
  };
  std::set<std::string> expected_entries = {".staging"};
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::CHexEscape(c.prompt.substr(0, 60)));
    const v1::Job job = JobFor(c.prompt, out_.string());
    const std::string& name = job.output_name();
    EXPECT_EQ(name, c.slug + "-" + job.id().substr(0, 12));
    EXPECT_TRUE(IsSafePathComponent(name)) << name;
    EXPECT_LE(name.size(), 40u + 1 + 12);

    absl::StatusOr<PublishedOutputs> published =
        PublishJobOutputs(job, RenderOf(job));
    ASSERT_TRUE(published.ok()) << published.status();
    ASSERT_FALSE(published->files.empty());
    for (const v1::OutputFile& f : published->files) {
      const fs::path real = fs::canonical(out_ / f.path());
      EXPECT_EQ(real.parent_path(), out_ / name) << f.path();
    }
    expected_entries.insert(name);
  }
  EXPECT_EQ(Entries(out_), expected_entries);
  EXPECT_EQ(Entries(sandbox_), std::set<std::string>{"out"});
}

TEST_F(OutputPathsTest, PublisherRefusesNamesThatAreNotOnePlainName) {
  // What a compromised or buggy coordinator could send in a lease.
  const std::vector<std::string> names = {
      "../escape",   "../../../../tmp/escape",
      "/tmp/escape", "..",
      ".",           "",
      "a/b",         std::string("x\0/../y", 7),
      "CON",         "nul.txt",
      "-rf",         ".hidden",
      "name.",       "a\\..\\b",
      "bell\x07"};
  for (const std::string& name : names) {
    SCOPED_TRACE(absl::CHexEscape(name));
    v1::Job job = JobFor("a cat", out_.string());
    job.set_output_name(name);
    absl::StatusOr<PublishedOutputs> files =
        PublishJobOutputs(job, RenderOf(job));
    EXPECT_EQ(files.status().code(), absl::StatusCode::kInvalidArgument);
  }
  EXPECT_TRUE(fs::is_empty(out_)) << "nothing written, not even staging";
  EXPECT_EQ(Entries(sandbox_), std::set<std::string>{"out"});
}

TEST_F(OutputPathsTest, PublisherRefusesARelativeOutputFolder) {
  v1::Job job = JobFor("a cat", "relative/out");
  absl::StatusOr<PublishedOutputs> files =
      PublishJobOutputs(job, RenderOf(job));
  EXPECT_EQ(files.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(fs::exists("relative"));
}

}  // namespace
}  // namespace reelfarm
