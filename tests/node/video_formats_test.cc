// A job's gif and mp4 through the real publication path, read back with
// ffprobe; and what happens without ffmpeg.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <optional>

#include "common/find_program.h"
#include "common/sha256.h"
#include "node/outputs/output_publisher.h"
#include "node/renderers/test_pattern_renderer.h"
#include "tests/tools/required_tool.h"

namespace reelfarm {
namespace {

namespace fs = std::filesystem;
using testing_tools::RunTool;

constexpr char kSkipEnv[] = "REELFARM_SKIP_MEDIA_TESTS";

class NeverCancelled : public RenderContext {
 public:
  bool Cancelled() const override { return false; }
  void ReportProgress(double) override {}
};

// Sets an environment variable for one scope (tests here run on one thread).
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

class VideoFormatsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    out_ = ::testing::TempDir() + "/formats_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(out_);
    fs::create_directories(out_);
  }

  v1::Job Job(std::vector<std::string> formats) const {
    v1::Job job;
    job.set_id("00112233445566778899aabb");
    job.set_output_dir(out_);
    job.set_output_name("boat-00112233");
    job.mutable_params()->set_prompt("a paper boat");
    job.mutable_params()->set_seed(3);
    job.mutable_params()->set_width(48);
    job.mutable_params()->set_height(32);
    job.mutable_params()->set_frames(10);
    job.mutable_params()->set_steps(2);
    job.mutable_params()->set_guidance_scale(7.5);
    job.mutable_renderer()->set_name("test-pattern");
    for (std::string& f : formats) job.add_formats(std::move(f));
    job.mutable_video()->set_fps(10);
    job.mutable_video()->set_gif_dither(true);
    job.mutable_video()->set_mp4_crf(23);
    return job;
  }

  absl::StatusOr<PublishedOutputs> Publish(const v1::Job& job) const {
    TestPatternRenderer renderer(0);
    NeverCancelled ctx;
    absl::StatusOr<Video> video = renderer.Render(job, ctx);
    if (!video.ok()) return video.status();
    return PublishJobOutputs(job, *video);
  }

  std::vector<std::string> Paths(const PublishedOutputs& p) const {
    std::vector<std::string> paths;
    for (const v1::OutputFile& f : p.files) {
      paths.push_back(f.path());
      EXPECT_EQ(*Sha256FileHex(out_ + "/" + f.path()), f.sha256());
    }
    return paths;
  }

  std::string out_;
};

// Stream facts as "key=value" lines.
absl::StatusOr<std::string> Probe(const std::string& ffprobe,
                                  const std::string& path) {
  return RunTool({ffprobe, "-v", "error", "-count_frames", "-select_streams",
                  "v:0", "-show_entries",
                  "stream=codec_name,pix_fmt,width,height,r_frame_rate,nb_"
                  "read_frames",
                  "-of", "default=noprint_wrappers=1", path});
}

TEST_F(VideoFormatsTest, GifAndMp4DecodeWithTheirFramesAndSize) {
  REELFARM_REQUIRE_TOOL(ffprobe, "ffprobe", kSkipEnv);
  REELFARM_REQUIRE_TOOL(ffmpeg, "ffmpeg", kSkipEnv);
  auto published = Publish(Job({"frames", "gif", "mp4"}));
  ASSERT_TRUE(published.ok()) << published.status();
  EXPECT_TRUE(published->warnings.empty());
  const std::vector<std::string> paths = Paths(*published);
  ASSERT_EQ(paths.size(), 12u);  // 10 frames, a gif and an mp4
  EXPECT_EQ(paths[0], "boat-00112233/clip.gif");
  EXPECT_EQ(paths[1], "boat-00112233/clip.mp4");
  EXPECT_EQ(paths[2], "boat-00112233/frame_00000.png");

  absl::StatusOr<std::string> gif =
      Probe(ffprobe, out_ + "/boat-00112233/clip.gif");
  ASSERT_TRUE(gif.ok()) << gif.status();
  EXPECT_NE(gif->find("codec_name=gif\n"), std::string::npos) << *gif;
  EXPECT_NE(gif->find("width=48\nheight=32\n"), std::string::npos) << *gif;
  EXPECT_NE(gif->find("nb_read_frames=10\n"), std::string::npos) << *gif;

  absl::StatusOr<std::string> mp4 =
      Probe(ffprobe, out_ + "/boat-00112233/clip.mp4");
  ASSERT_TRUE(mp4.ok()) << mp4.status();
  EXPECT_NE(mp4->find("codec_name=h264\n"), std::string::npos) << *mp4;
  EXPECT_NE(mp4->find("width=48\nheight=32\n"), std::string::npos) << *mp4;
  EXPECT_NE(mp4->find("pix_fmt=yuv420p\n"), std::string::npos) << *mp4;
  EXPECT_NE(mp4->find("r_frame_rate=10/1\n"), std::string::npos) << *mp4;
  EXPECT_NE(mp4->find("nb_read_frames=10\n"), std::string::npos) << *mp4;
  EXPECT_TRUE(fs::is_empty(out_ + "/.staging"));
}

TEST_F(VideoFormatsTest, OnlyTheFormatsAsked) {
  auto published = Publish(Job({"gif"}));
  ASSERT_TRUE(published.ok()) << published.status();
  EXPECT_EQ(Paths(*published),
            std::vector<std::string>{"boat-00112233/clip.gif"});
}

TEST_F(VideoFormatsTest, WithoutFfmpegTheOtherFormatsPublishWithAWarning) {
  ScopedEnv env(kFfmpegEnv, "/nonexistent/ffmpeg");
  auto published = Publish(Job({"frames", "gif", "mp4"}));
  ASSERT_TRUE(published.ok()) << published.status();
  const std::vector<std::string> paths = Paths(*published);
  EXPECT_EQ(paths.size(), 11u);
  EXPECT_EQ(paths[0], "boat-00112233/clip.gif");
  ASSERT_EQ(published->warnings.size(), 1u);
  EXPECT_EQ(published->warnings[0],
            "mp4 not written: REELFARM_FFMPEG=/nonexistent/ffmpeg is not an "
            "executable file (Debian/Ubuntu: apt-get install ffmpeg)");
}

TEST_F(VideoFormatsTest, MissingFromPathNamesTheProgramAndTheOverride) {
  ScopedEnv path("PATH", out_);  // a folder with no ffmpeg in it
  ScopedEnv env(kFfmpegEnv, "");
  auto published = Publish(Job({"mp4"}));
  ASSERT_TRUE(published.ok()) << published.status();
  EXPECT_TRUE(published->files.empty());
  ASSERT_EQ(published->warnings.size(), 1u);
  EXPECT_NE(published->warnings[0].find("the ffmpeg program is not on PATH"),
            std::string::npos)
      << published->warnings[0];
  EXPECT_NE(published->warnings[0].find("REELFARM_FFMPEG"), std::string::npos);
}

TEST_F(VideoFormatsTest, AFailingEncoderFailsTheJobAndPublishesNothing) {
  ScopedEnv env(kFfmpegEnv, "/bin/false");
  auto published = Publish(Job({"frames", "mp4"}));
  ASSERT_FALSE(published.ok());
  EXPECT_EQ(published.status().message(),
            "mp4: /bin/false exited with status 1");
  EXPECT_FALSE(fs::exists(out_ + "/boat-00112233"));
  EXPECT_TRUE(fs::is_empty(out_ + "/.staging"));
}

}  // namespace
}  // namespace reelfarm
