// The leader's messages reach every follower as sent, over the in-process
// communicator (the TCP one gives the same bytes: socket_communicator_test).

#include "node/group/group_channel.h"

#include <gtest/gtest.h>

#include <thread>

#include "node/pipeline/comm/in_process_communicator.h"

namespace reelfarm {
namespace {

TEST(GroupChannelTest, FollowersReceiveWhatTheLeaderSends) {
  auto comms = pipeline::comm::MakeInProcessGroup(3);
  v1::Job job;
  job.set_id("job-1");
  job.mutable_params()->set_prompt(std::string(5000, 'x'));
  job.mutable_params()->set_devices_per_video(3);
  const std::vector<GroupMessage> sent = {{GroupMessage::Kind::kIdle, {}},
                                          {GroupMessage::Kind::kJob, job},
                                          {GroupMessage::Kind::kStop, {}}};
  std::vector<std::vector<GroupMessage>> received(3);
  std::vector<std::thread> followers;
  for (int r = 1; r < 3; ++r) {
    followers.emplace_back([&, r] {
      for (;;) {
        absl::StatusOr<GroupMessage> m = ReceiveGroupMessage(*comms[r]);
        ASSERT_TRUE(m.ok()) << m.status();
        received[r].push_back(*m);
        if (m->kind == GroupMessage::Kind::kStop) return;
      }
    });
  }
  for (const GroupMessage& m : sent) {
    ASSERT_TRUE(SendGroupMessage(*comms[0], m).ok());
  }
  for (std::thread& t : followers) t.join();
  for (int r = 1; r < 3; ++r) {
    ASSERT_EQ(received[r].size(), 3u);
    EXPECT_EQ(received[r][0].kind, GroupMessage::Kind::kIdle);
    EXPECT_EQ(received[r][1].kind, GroupMessage::Kind::kJob);
    EXPECT_EQ(received[r][1].job.SerializeAsString(), job.SerializeAsString());
    EXPECT_EQ(received[r][2].kind, GroupMessage::Kind::kStop);
  }
}

TEST(GroupChannelTest, ABrokenGroupIsAnErrorNotAHang) {
  auto comms = pipeline::comm::MakeInProcessGroup(2);
  comms[0]->Abort();
  EXPECT_FALSE(ReceiveGroupMessage(*comms[1]).ok());
  EXPECT_FALSE(
      SendGroupMessage(*comms[0], {GroupMessage::Kind::kIdle, {}}).ok());
}

}  // namespace
}  // namespace reelfarm
