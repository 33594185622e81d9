#include "coordinator/manifest/manifest.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "nlohmann/json.hpp"

namespace reelfarm {
namespace {

v1::JobStatus DoneJob(const std::string& id, uint64_t seed) {
  v1::JobStatus j;
  j.mutable_job()->set_id(id);
  j.mutable_job()->set_output_name("cat-" + id);
  j.mutable_job()->mutable_params()->set_prompt("a cat");
  j.mutable_job()->mutable_params()->set_seed(seed);
  j.mutable_job()->mutable_params()->mutable_models()->mutable_base()->set_path(
      "/m/sd");
  j.mutable_job()
      ->mutable_params()
      ->mutable_models()
      ->mutable_base()
      ->set_digest("sha256:abc");
  j.set_state(v1::JOB_STATE_DONE);
  j.set_attempts(1);
  for (int f = 0; f < 2; ++f) {
    v1::OutputFile* file = j.mutable_result()->add_files();
    file->set_path("cat-" + id + "/frame_0000" + std::to_string(f) + ".png");
    file->set_sha256("ff");
    file->set_bytes(10);
  }
  j.mutable_result()->set_node_id("n1");
  return j;
}

TEST(ManifestTest, ListsJobsModelsAndFiles) {
  v1::SweepStatus sweep;
  sweep.set_id("sw-1");
  sweep.mutable_spec()->set_name("demo");
  sweep.set_state(v1::SWEEP_STATE_DONE);
  sweep.mutable_counts()->set_total(2);
  v1::JobStatus failed = DoneJob("b", 2);
  failed.set_state(v1::JOB_STATE_FAILED);
  failed.set_last_error("oom");
  failed.clear_result();
  const std::vector<v1::JobStatus> jobs = {DoneJob("a", 18446744073709551615u),
                                           failed};
  auto doc = nlohmann::json::parse(RenderManifestJson(sweep, jobs));
  EXPECT_EQ(doc["sweep"]["id"], "sw-1");
  EXPECT_EQ(doc["sweep"]["state"], "done");
  ASSERT_EQ(doc["jobs"].size(), 2u);
  EXPECT_EQ(doc["jobs"][0]["params"]["seed"].get<uint64_t>(),
            18446744073709551615u);  // uint64 seeds survive
  EXPECT_EQ(doc["jobs"][0]["files"].size(), 2u);
  EXPECT_EQ(doc["jobs"][1]["status"], "failed");
  EXPECT_EQ(doc["jobs"][1]["error"], "oom");
  ASSERT_EQ(doc["models"].size(), 1u);
  EXPECT_EQ(doc["models"][0]["digest"], "sha256:abc");
}

TEST(ManifestTest, MetadataHasOneLinePerFile) {
  const std::string text = RenderMetadataJsonl({DoneJob("a", 1)});
  std::istringstream in(text);
  std::string line;
  int lines = 0;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j["file_name"].get<std::string>().rfind("cat-a/", 0), 0u);
    EXPECT_EQ(j["prompt"], "a cat");
    ++lines;
  }
  EXPECT_EQ(lines, 2);
}

TEST(ManifestTest, WritesBothFilesIntoTheOutputFolder) {
  const std::string dir = ::testing::TempDir() + "/manifest_test_out";
  std::filesystem::remove_all(dir);
  v1::SweepStatus sweep;
  sweep.set_id("sw-2");
  sweep.mutable_spec()->set_output_dir(dir);
  ASSERT_TRUE(WriteManifest(sweep, {DoneJob("a", 1)}).ok());
  EXPECT_TRUE(std::filesystem::exists(dir + "/manifest.json"));
  EXPECT_TRUE(std::filesystem::exists(dir + "/metadata.jsonl"));
  // No temporary files are left beside them.
  int entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(entries, 2);
}

TEST(ManifestTest, UnwritableFolderIsAnError) {
  v1::SweepStatus sweep;
  sweep.mutable_spec()->set_output_dir("/proc/reelfarm-cannot-write-here");
  EXPECT_FALSE(WriteManifest(sweep, {}).ok());
}

TEST(ManifestTest, RecordsSlurmProvenanceOnlyWhenPresent) {
  v1::SweepStatus sweep;
  sweep.set_id("sw-1");
  v1::JobStatus in_slurm = DoneJob("a", 1);
  v1::SlurmProvenance* p = in_slurm.mutable_result()->mutable_slurm();
  p->set_job_id("42");
  p->set_array_task_id("3");
  p->set_node_name("n2");
  p->set_restart_count(1);
  const std::vector<v1::JobStatus> jobs = {in_slurm, DoneJob("b", 2)};
  auto doc = nlohmann::json::parse(RenderManifestJson(sweep, jobs));
  const auto& slurm = doc["jobs"][0]["slurm"];
  EXPECT_EQ(slurm["job_id"], "42");
  EXPECT_EQ(slurm["array_task_id"], "3");
  EXPECT_EQ(slurm["node_name"], "n2");
  EXPECT_EQ(slurm["restart_count"], 1);
  EXPECT_FALSE(slurm.contains("array_job_id"));  // unset fields stay out
  EXPECT_FALSE(doc["jobs"][1].contains("slurm"));
}

}  // namespace
}  // namespace reelfarm
