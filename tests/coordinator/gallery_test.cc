// gallery.html: escaping, and the page as headless Chromium draws it.
#include "coordinator/manifest/gallery.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "common/atomic_file.h"
#include "common/find_program.h"
#include "node/outputs/gif_writer.h"
#include "node/outputs/mp4_writer.h"
#include "sweep/job_id.h"
#include "tests/tools/required_tool.h"

namespace reelfarm {
namespace {

namespace fs = std::filesystem;
using testing_tools::RunTool;

constexpr char kSkipEnv[] = "REELFARM_SKIP_BROWSER_TESTS";
constexpr char kHostile[] =
    "a \"quoted\" <img id=pwned src=x onerror=alert(1)> </script> & 'more'";

size_t Count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos;
       at = text.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

// A small clip whose colours depend on `tone`, so cells differ on screen.
Video Clip(int tone) {
  Video v{32, 32, {}};
  for (int f = 0; f < 6; ++f) {
    std::string rgb(32 * 32 * 3, '\0');
    for (int i = 0; i < 32 * 32; ++i) {
      const int x = i % 32, y = i / 32;
      rgb[3 * i] = static_cast<char>((x * 8 + f * 40) & 255);
      rgb[3 * i + 1] = static_cast<char>(tone);
      rgb[3 * i + 2] = static_cast<char>(y * 8);
    }
    v.frames.push_back(std::move(rgb));
  }
  return v;
}

// 2 prompts x 3 seeds, rendered as GIFs; one failed and one still pending.
class GalleryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    out_ = ::testing::TempDir() + "/gallery_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(out_);
    fs::create_directories(out_);
    sweep_.set_id("sweep-1");
    sweep_.set_state(v1::SWEEP_STATE_FAILED);
    v1::SweepSpec* spec = sweep_.mutable_spec();
    spec->set_name("gallery <demo>");
    spec->set_output_dir(out_);
    spec->mutable_gallery()->set_rows("prompt");
    spec->mutable_gallery()->set_columns("seed");
    const std::vector<std::string> prompts = {"a lighthouse at dusk", kHostile};
    int n = 0;
    for (const std::string& prompt : prompts) {
      for (uint64_t seed : {42u, 1234u, 777u}) {
        v1::JobStatus status;
        v1::Job* job = status.mutable_job();
        v1::RenderParams* p = job->mutable_params();
        p->set_prompt(prompt);
        p->set_seed(seed);
        p->set_width(32);
        p->set_height(32);
        p->set_frames(6);
        p->set_steps(10);
        p->set_guidance_scale(7.5);
        job->set_id(JobIdFor(*p, "test-pattern"));
        job->set_output_name(JobOutputName(*p, job->id()));
        ++n;
        if (n == 2) {
          status.set_state(v1::JOB_STATE_FAILED);
          status.set_last_error("out of memory <on cuda:0>");
        } else if (n == 6) {
          status.set_state(v1::JOB_STATE_PENDING);
        } else if (n == 5) {
          // A job with only an mp4 plays it in a <video>.
          status.set_state(v1::JOB_STATE_DONE);
          const std::string rel = job->output_name() + "/clip.mp4";
          fs::create_directories(out_ + "/" + job->output_name());
          if (absl::StatusOr<std::string> ffmpeg = FindFfmpeg(); ffmpeg.ok()) {
            EXPECT_TRUE(
                WriteMp4(Clip(n * 40), 8, 18, *ffmpeg, out_ + "/" + rel).ok());
          }
          status.mutable_result()->add_files()->set_path(rel);
          status.mutable_result()->add_warnings("gif not asked for");
        } else {
          status.set_state(v1::JOB_STATE_DONE);
          const std::string rel = job->output_name() + "/clip.gif";
          fs::create_directories(out_ + "/" + job->output_name());
          auto gif = EncodeAnimatedGif(Clip(n * 40), 8, true);
          EXPECT_TRUE(gif.ok());
          EXPECT_TRUE(WriteFileDurably(out_ + "/" + rel, *gif).ok());
          status.mutable_result()->add_files()->set_path(rel);
        }
        jobs_.push_back(status);
      }
    }
    sweep_.mutable_counts()->set_total(6);
    sweep_.mutable_counts()->set_done(4);
    sweep_.mutable_counts()->set_failed(1);
    sweep_.mutable_counts()->set_pending(1);
  }

  std::string out_;
  v1::SweepStatus sweep_;
  std::vector<v1::JobStatus> jobs_;
};

TEST(GalleryEscapingTest, ScriptDataCannotCloseItsElement) {
  EXPECT_EQ(JsonForScript(R"({"p":"</script><b>&\u2028"})"),
            R"({"p":"\u003c/script\u003e\u003cb\u003e\u0026\u2028"})");
  EXPECT_EQ(JsonForScript("\xE2\x80\xA8\xE2\x80\xA9"), "\\u2028\\u2029");
  EXPECT_EQ(HtmlEscape(R"(<a href="x">'&'</a>)"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
}

TEST_F(GalleryTest, UserTextNeverAppearsRawInThePage) {
  const std::string html = RenderGalleryHtml(sweep_, jobs_);
  EXPECT_EQ(Count(html, "</script>"), 2u);  // the data and the code
  EXPECT_EQ(html.find("<img id=pwned"), std::string::npos);
  EXPECT_NE(html.find("<title>gallery &lt;demo&gt; - reelfarm gallery</title>"),
            std::string::npos);
  // No reload once the sweep has finished.
  EXPECT_EQ(html.find("http-equiv=\"refresh\""), std::string::npos);
  sweep_.set_state(v1::SWEEP_STATE_RUNNING);
  EXPECT_NE(RenderGalleryHtml(sweep_, jobs_).find("http-equiv=\"refresh\""),
            std::string::npos);
}

TEST_F(GalleryTest, ChromiumDrawsTheGridAndTakesAScreenshot) {
  REELFARM_REQUIRE_TOOL(chromium, "chromium", kSkipEnv);
  ASSERT_TRUE(WriteGallery(sweep_, jobs_).ok());
  const std::string page = "file://" + out_ + "/" + kGalleryFile;
  const std::string profile = out_ + "/.chromium-profile";
  const std::vector<std::string> common = {chromium,
                                           "--headless",
                                           "--no-sandbox",
                                           "--disable-gpu",
                                           "--user-data-dir=" + profile,
                                           "--hide-scrollbars"};

  std::vector<std::string> dump = common;
  dump.insert(dump.end(), {"--dump-dom", page});
  absl::StatusOr<std::string> dom = RunTool(dump);
  ASSERT_TRUE(dom.ok()) << dom.status();
  // The script ran and drew 2 x 3 cells, one job each.
  EXPECT_NE(dom->find("data-ready=\"1\""), std::string::npos) << *dom;
  EXPECT_NE(dom->find("data-rows=\"2\" data-columns=\"3\""), std::string::npos);
  EXPECT_EQ(Count(*dom, "<td class=\"cell\""), 6u);
  EXPECT_EQ(Count(*dom, "<figure class=\"job\""), 6u);
  EXPECT_EQ(Count(*dom, "data-status=\"done\""), 4u);
  EXPECT_EQ(Count(*dom, "data-status=\"pending\""), 1u);
  EXPECT_EQ(Count(*dom, "data-status=\"failed\""), 1u);
  EXPECT_EQ(Count(*dom, "<img class=\"clip upscaled\""), 3u);
  EXPECT_EQ(Count(*dom, "<video class=\"clip upscaled\""), 1u);
  std::smatch video;
  ASSERT_TRUE(std::regex_search(*dom, video, std::regex("<video [^>]*>")));
  for (const char* attribute : {"autoplay", "loop", "muted", "playsinline"}) {
    EXPECT_NE(video.str().find(attribute), std::string::npos) << video.str();
  }
  EXPECT_NE(dom->find("failed: out of memory &lt;on cuda:0&gt;"),
            std::string::npos);
  // Cells carry their axis values; the seeds in sweep order.
  std::regex column_value("data-column-value=\"([0-9]+)\"");
  std::vector<std::string> seeds;
  for (std::sregex_iterator it(dom->begin(), dom->end(), column_value), end;
       it != end && seeds.size() < 3; ++it) {
    seeds.push_back((*it)[1]);
  }
  EXPECT_EQ(seeds, (std::vector<std::string>{"42", "1234", "777"}));
  // The hostile prompt is text: shown (escaped) in its row header and data
  // attributes, and no element was made from it.
  EXPECT_EQ(dom->find("id=\"pwned\""), std::string::npos);
  EXPECT_EQ(dom->find("<img id=pwned"), std::string::npos);
  EXPECT_EQ(Count(*dom,
                  "data-row-value=\"a &quot;quoted&quot; &lt;img "
                  "id=pwned src=x onerror=alert(1)&gt; &lt;/script&gt; "
                  "&amp; 'more'\""),
            3u);

  const std::string shot = out_ + "/gallery.png";
  std::vector<std::string> screenshot = common;
  screenshot.insert(screenshot.end(),
                    {"--screenshot=" + shot, "--window-size=900,520", page});
  absl::StatusOr<std::string> ran = RunTool(screenshot);
  ASSERT_TRUE(ran.ok()) << ran.status();
  ASSERT_TRUE(fs::exists(shot));
  std::ifstream in(shot, std::ios::binary);
  std::string magic(8, '\0');
  in.read(magic.data(), 8);
  EXPECT_EQ(magic, "\x89PNG\r\n\x1a\n");
  EXPECT_GT(fs::file_size(shot), 5000u);  // more than a blank page
}

}  // namespace
}  // namespace reelfarm
