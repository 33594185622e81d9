#include "node/slurm_env.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace reelfarm {
namespace {

GetEnvFn FakeEnv(const std::map<std::string, std::string>* vars) {
  return [vars](const char* name) -> const char* {
    auto it = vars->find(name);
    return it == vars->end() ? nullptr : it->second.c_str();
  };
}

TEST(SlurmEnvTest, NothingOutsideSlurm) {
  const std::map<std::string, std::string> env = {{"SLURMD_NODENAME", "n1"}};
  EXPECT_FALSE(SlurmProvenanceFromEnvironment(FakeEnv(&env)).has_value());
}

TEST(SlurmEnvTest, ReadsJobArrayNodeAndRestarts) {
  const std::map<std::string, std::string> env = {
      {"SLURM_JOB_ID", "107"},       {"SLURM_ARRAY_JOB_ID", "100"},
      {"SLURM_ARRAY_TASK_ID", "7"},  {"SLURM_STEP_ID", "0"},
      {"SLURMD_NODENAME", "gpu017"}, {"SLURM_RESTART_COUNT", "2"}};
  auto p = SlurmProvenanceFromEnvironment(FakeEnv(&env));
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->job_id(), "107");
  EXPECT_EQ(p->array_job_id(), "100");
  EXPECT_EQ(p->array_task_id(), "7");
  EXPECT_EQ(p->step_id(), "0");
  EXPECT_EQ(p->node_name(), "gpu017");
  EXPECT_EQ(p->restart_count(), 2u);
}

TEST(SlurmEnvTest, FirstRunHasNoRestartCount) {
  const std::map<std::string, std::string> env = {{"SLURM_JOB_ID", "5"}};
  auto p = SlurmProvenanceFromEnvironment(FakeEnv(&env));
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->restart_count(), 0u);
  EXPECT_TRUE(p->array_task_id().empty());
}

TEST(SlurmEnvTest, ProcessGroupOfTheStepsTasks) {
  std::map<std::string, std::string> env = {{"SLURM_JOB_ID", "107"},
                                            {"SLURM_STEP_ID", "3"},
                                            {"SLURM_PROCID", "1"},
                                            {"SLURM_NTASKS", "4"}};
  auto g = ProcessGroupFromSlurm(FakeEnv(&env));
  ASSERT_TRUE(g.has_value());
  EXPECT_EQ(g->name, "slurm-107.3.0");
  EXPECT_EQ(g->rank, 1);
  EXPECT_EQ(g->size, 4);
  // A requeued job forms a group of another name.
  env["SLURM_RESTART_COUNT"] = "2";
  EXPECT_EQ(ProcessGroupFromSlurm(FakeEnv(&env))->name, "slurm-107.3.2");
  env.erase("SLURM_PROCID");  // the batch shell, not a step's task
  EXPECT_FALSE(ProcessGroupFromSlurm(FakeEnv(&env)).has_value());
}

}  // namespace
}  // namespace reelfarm
