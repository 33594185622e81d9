#include "node/outputs/output_publisher.h"

#include <gtest/gtest.h>
#include <png.h>

#include <filesystem>
#include <fstream>

#include "common/sha256.h"
#include "node/renderers/test_pattern_renderer.h"

namespace reelfarm {
namespace {

namespace fs = std::filesystem;

class NeverCancelled : public RenderContext {
 public:
  bool Cancelled() const override { return false; }
  void ReportProgress(double) override {}
};

v1::Job TestJob(const std::string& out, uint64_t seed) {
  v1::Job job;
  job.set_id("0123456789abcdef01234567");
  job.set_output_dir(out);
  job.set_output_name("cat-0123456789ab");
  job.mutable_params()->set_prompt("a cat");
  job.mutable_params()->set_seed(seed);
  job.mutable_params()->set_width(24);
  job.mutable_params()->set_height(16);
  job.mutable_params()->set_frames(3);
  job.mutable_params()->set_steps(20);
  job.mutable_params()->set_guidance_scale(7.5);
  job.mutable_renderer()->set_name("test-pattern");
  return job;
}

Video RenderOf(const v1::Job& job) {
  TestPatternRenderer renderer(0);
  NeverCancelled ctx;
  auto video = renderer.Render(job, ctx);
  EXPECT_TRUE(video.ok());
  return *video;
}

// Reads the tEXt chunks of a PNG file back with libpng.
std::map<std::string, std::string> ReadPngText(const std::string& path,
                                               uint32_t* w, uint32_t* h) {
  FILE* f = fopen(path.c_str(), "rb");
  png_structp png =
      png_create_read_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  png_init_io(png, f);
  png_read_info(png, info);
  *w = png_get_image_width(png, info);
  *h = png_get_image_height(png, info);
  png_textp text = nullptr;
  int n = 0;
  png_get_text(png, info, &text, &n);
  std::map<std::string, std::string> out;
  for (int i = 0; i < n; ++i) out[text[i].key] = text[i].text;
  png_destroy_read_struct(&png, &info, nullptr);
  fclose(f);
  return out;
}

class OutputPublisherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    out_ = ::testing::TempDir() + "/publisher_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(out_);
    fs::create_directories(out_);
  }
  std::string out_;
};

TEST_F(OutputPublisherTest, PublishesFramesWithHashesAndParameters) {
  const v1::Job job = TestJob(out_, 7);
  auto published = PublishJobOutputs(job, RenderOf(job));
  ASSERT_TRUE(published.ok()) << published.status();
  const std::vector<v1::OutputFile>& files = published->files;
  ASSERT_EQ(files.size(), 3u);
  EXPECT_TRUE(published->warnings.empty());
  for (const v1::OutputFile& f : files) {
    EXPECT_EQ(f.path().rfind("cat-0123456789ab/frame_", 0), 0u);
    EXPECT_EQ(*Sha256FileHex(out_ + "/" + f.path()), f.sha256());
  }
  uint32_t w = 0, h = 0;
  auto text = ReadPngText(out_ + "/" + files[0].path(), &w, &h);
  EXPECT_EQ(w, 24u);
  EXPECT_EQ(h, 16u);
  EXPECT_EQ(text["parameters"].rfind("a cat\nSteps: 20, Sampler: DDIM", 0), 0u)
      << text["parameters"];
  EXPECT_NE(text["reelfarm"].find("0123456789abcdef01234567"),
            std::string::npos);
  // Nothing is left in the staging area.
  EXPECT_TRUE(fs::is_empty(out_ + "/.staging"));
}

TEST_F(OutputPublisherTest, FirstPublicationWins) {
  const v1::Job job = TestJob(out_, 7);
  auto first = PublishJobOutputs(job, RenderOf(job));
  ASSERT_TRUE(first.ok());
  // A second attempt that rendered something else (another GPU, say) does
  // not replace the files the first one published.
  auto second = PublishJobOutputs(job, RenderOf(TestJob(out_, 8)));
  ASSERT_TRUE(second.ok());
  ASSERT_EQ(first->files.size(), second->files.size());
  for (size_t i = 0; i < first->files.size(); ++i) {
    EXPECT_EQ(first->files[i].sha256(), second->files[i].sha256());
  }
}

TEST_F(OutputPublisherTest, UnwritableOutputFolderIsAnError) {
  // A file where a folder should be fails for root too, unlike permissions.
  { std::ofstream(out_ + "/blocked") << "x"; }
  const v1::Job job = TestJob(out_ + "/blocked/sub", 7);
  auto published = PublishJobOutputs(job, RenderOf(job));
  ASSERT_FALSE(published.ok());
  EXPECT_NE(published.status().message().find("blocked"), std::string::npos)
      << published.status();
}

TEST(TestPatternRendererTest, SameJobSameFramesOtherSeedOtherFrames) {
  const v1::Job a = TestJob("/unused", 1);
  const v1::Job b = TestJob("/unused", 2);
  Video va = RenderOf(a);
  EXPECT_EQ(va.frames, RenderOf(a).frames);
  EXPECT_NE(va.frames, RenderOf(b).frames);
  ASSERT_EQ(va.frames.size(), 3u);
  EXPECT_EQ(va.frames[0].size(), 24u * 16u * 3u);
}

TEST(TestPatternRendererTest, StopsWhenCancelled) {
  class AlwaysCancelled : public RenderContext {
   public:
    bool Cancelled() const override { return true; }
    void ReportProgress(double) override {}
  } ctx;
  TestPatternRenderer renderer(60'000);
  auto video = renderer.Render(TestJob("/unused", 1), ctx);
  EXPECT_EQ(video.status().code(), absl::StatusCode::kCancelled);
}

}  // namespace
}  // namespace reelfarm
