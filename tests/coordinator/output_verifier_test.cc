#include "coordinator/manifest/output_verifier.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/sha256.h"

namespace reelfarm {
namespace {

namespace fs = std::filesystem;

class OutputVerifierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::path(::testing::TempDir()) /
            ("verifier-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_ / "a" / "job-1");
    Write(root_ / "a" / "job-1" / "0000.png", "frame zero");
    Write(root_ / "a" / "job-1" / "0001.png", "frame one");
    result_.set_job_id("job-1");
    for (const char* name : {"0000.png", "0001.png"}) {
      const fs::path p = root_ / "a" / "job-1" / name;
      v1::OutputFile* f = result_.add_files();
      f->set_path(std::string("job-1/") + name);
      f->set_sha256(*Sha256FileHex(p.string()));
      f->set_bytes(fs::file_size(p));
    }
  }
  void TearDown() override { fs::remove_all(root_); }

  static void Write(const fs::path& p, const std::string& text) {
    std::ofstream(p.string(), std::ios::binary | std::ios::trunc) << text;
  }

  fs::path root_;
  v1::JobResult result_;
  FileOutputVerifier verifier_;
};

TEST_F(OutputVerifierTest, IntactFilesVerify) {
  EXPECT_TRUE(verifier_.Verify((root_ / "a").string(), result_).ok());
}

TEST_F(OutputVerifierTest, DeletedFileIsNotFound) {
  fs::remove(root_ / "a" / "job-1" / "0001.png");
  absl::Status st = verifier_.Verify((root_ / "a").string(), result_);
  EXPECT_EQ(st.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(st.message().find("0001.png"), std::string::npos);
}

TEST_F(OutputVerifierTest, CorruptedFileOfTheSameSizeIsDataLoss) {
  Write(root_ / "a" / "job-1" / "0000.png", "frame 0ero");
  absl::Status st = verifier_.Verify((root_ / "a").string(), result_);
  EXPECT_EQ(st.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(st.message().find("sha256"), std::string::npos);
}

TEST_F(OutputVerifierTest, TruncatedFileIsDataLoss) {
  Write(root_ / "a" / "job-1" / "0000.png", "frame");
  EXPECT_EQ(verifier_.Verify((root_ / "a").string(), result_).code(),
            absl::StatusCode::kDataLoss);
}

TEST_F(OutputVerifierTest, RecordedPathsOutsideTheFolderAreRefused) {
  for (const char* bad : {"../a/job-1/0000.png", "/etc/passwd", "job-1/../../x",
                          "./job-1/0000.png", ""}) {
    v1::JobResult r = result_;
    r.mutable_files(0)->set_path(bad);
    EXPECT_EQ(verifier_.Verify((root_ / "a").string(), r).code(),
              absl::StatusCode::kDataLoss)
        << bad;
  }
}

TEST_F(OutputVerifierTest, AdoptLinksTheJobFolderIntoAnotherOutputFolder) {
  fs::create_directories(root_ / "b");
  ASSERT_TRUE(
      verifier_.Adopt((root_ / "a").string(), (root_ / "b").string(), result_)
          .ok());
  EXPECT_TRUE(verifier_.Verify((root_ / "b").string(), result_).ok());
  // Linked, not copied, on one filesystem; no staging left behind.
  struct stat st;
  ASSERT_EQ(::stat((root_ / "b" / "job-1" / "0000.png").c_str(), &st), 0);
  EXPECT_EQ(st.st_nlink, 2u);
  EXPECT_TRUE(fs::is_empty(root_ / "b" / ".staging"));
  // Adopting again finds the folder there and verifies it.
  EXPECT_TRUE(
      verifier_.Adopt((root_ / "a").string(), (root_ / "b").string(), result_)
          .ok());
}

TEST_F(OutputVerifierTest, AdoptOfBrokenFilesPublishesNothing) {
  fs::create_directories(root_ / "b");
  fs::remove(root_ / "a" / "job-1" / "0001.png");
  EXPECT_FALSE(
      verifier_.Adopt((root_ / "a").string(), (root_ / "b").string(), result_)
          .ok());
  EXPECT_FALSE(fs::exists(root_ / "b" / "job-1"));
}

TEST_F(OutputVerifierTest, DiscardMovesTheFolderAsideAndKeepsIt) {
  ASSERT_TRUE(verifier_.Discard((root_ / "a").string(), result_).ok());
  EXPECT_FALSE(fs::exists(root_ / "a" / "job-1"));
  int kept = 0;
  for (const auto& e : fs::directory_iterator(root_ / "a" / ".discarded")) {
    EXPECT_TRUE(fs::exists(e.path() / "0000.png"));
    ++kept;
  }
  EXPECT_EQ(kept, 1);
  // Nothing there: nothing to do.
  EXPECT_TRUE(verifier_.Discard((root_ / "a").string(), result_).ok());
}

}  // namespace
}  // namespace reelfarm
