// The coordinator's rendezvous table on a fake clock: rank 0 posts, the
// other ranks wait for its bytes; groups expire; sizes are capped.

#include "coordinator/rendezvous_table.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "common/clock.h"

namespace reelfarm {
namespace {

using Result = absl::StatusOr<std::optional<std::string>>;

// Returns once `n` calls are blocked in the table.
void AwaitWaiters(const RendezvousTable& table, size_t n) {
  while (table.waiting() < n) std::this_thread::yield();
}

// The value a successful, ready result carries; fails the test otherwise.
std::string ValueOf(const Result& r) {
  EXPECT_TRUE(r.ok()) << r.status();
  if (!r.ok()) return "";
  EXPECT_TRUE(r->has_value());
  return r->value_or("");
}

TEST(RendezvousTableTest, RankZeroPostsAndTheOthersGetItsBytes) {
  FakeClock clock;
  RendezvousTable table(&clock);
  const std::string id("\0id\xff", 4);  // bytes, not text
  EXPECT_EQ(ValueOf(table.Meet("g", 0, 3, id, absl::ZeroDuration())), id);
  EXPECT_EQ(ValueOf(table.Meet("g", 1, 3, "", absl::ZeroDuration())), id);
  EXPECT_EQ(ValueOf(table.Meet("g", 2, 3, "", absl::Seconds(1))), id);
  EXPECT_EQ(table.groups(), 1u);
}

TEST(RendezvousTableTest, RanksThatComeFirstWaitForRankZero) {
  FakeClock clock;
  RendezvousTable table(&clock);
  std::vector<Result> results(3, Result(std::nullopt));
  std::vector<std::thread> ranks;
  for (uint32_t r = 1; r < 3; ++r) {
    ranks.emplace_back([&, r] {
      results[r] = table.Meet("late", r, 3, "", absl::Seconds(30));
    });
  }
  AwaitWaiters(table, 2);
  // Waiting ranks take no room in the table.
  EXPECT_EQ(table.groups(), 0u);
  results[0] = table.Meet("late", 0, 3, "addr:1", absl::ZeroDuration());
  for (std::thread& t : ranks) t.join();
  for (const Result& r : results) EXPECT_EQ(ValueOf(r), "addr:1");
}

TEST(RendezvousTableTest, NotPostedWithinTheWaitIsNotReady) {
  FakeClock clock;
  RendezvousTableOptions options;
  options.max_wait = absl::Milliseconds(20);
  RendezvousTable table(&clock, options);
  Result now = table.Meet("g", 1, 2, "", absl::ZeroDuration());
  ASSERT_TRUE(now.ok()) << now.status();
  EXPECT_FALSE(now->has_value());
  // An hour asked for is capped at max_wait.
  Result capped = table.Meet("g", 1, 2, "", absl::Hours(1));
  ASSERT_TRUE(capped.ok()) << capped.status();
  EXPECT_FALSE(capped->has_value());
}

TEST(RendezvousTableTest, GroupsExpireAfterTheirTtl) {
  FakeClock clock;
  RendezvousTable table(&clock);
  ASSERT_TRUE(table.Meet("g", 0, 2, "one", absl::ZeroDuration()).ok());
  clock.Advance(absl::Minutes(9));
  EXPECT_EQ(ValueOf(table.Meet("g", 1, 2, "", absl::ZeroDuration())), "one");
  clock.Advance(absl::Minutes(2));
  Result gone = table.Meet("g", 1, 2, "", absl::ZeroDuration());
  ASSERT_TRUE(gone.ok()) << gone.status();
  EXPECT_FALSE(gone->has_value());
  // The name is free again.
  EXPECT_EQ(ValueOf(table.Meet("g", 0, 2, "two", absl::ZeroDuration())), "two");
}

TEST(RendezvousTableTest, ExpiredGroupsAreCleanedWhenOthersPost) {
  FakeClock clock;
  RendezvousTableOptions options;
  options.max_groups = 2;
  RendezvousTable table(&clock, options);
  ASSERT_TRUE(table.Meet("a", 0, 2, "x", absl::ZeroDuration()).ok());
  ASSERT_TRUE(table.Meet("b", 0, 2, "x", absl::ZeroDuration()).ok());
  Result full = table.Meet("c", 0, 2, "x", absl::ZeroDuration());
  EXPECT_EQ(full.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(full.status().message().find("full"), std::string::npos)
      << full.status();
  clock.Advance(absl::Minutes(11));
  ASSERT_TRUE(table.Meet("c", 0, 2, "x", absl::ZeroDuration()).ok());
  EXPECT_EQ(table.groups(), 1u);
}

TEST(RendezvousTableTest, RefusesOversizedNamesAndValues) {
  FakeClock clock;
  RendezvousTable table(&clock);
  const std::string long_name(257, 'g');
  Result name = table.Meet(long_name, 0, 2, "x", absl::ZeroDuration());
  EXPECT_EQ(name.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(name.status().message().find("257 characters"), std::string::npos)
      << name.status();
  EXPECT_TRUE(
      table.Meet(std::string(256, 'g'), 0, 2, "x", absl::ZeroDuration()).ok());
  Result value =
      table.Meet("g", 0, 2, std::string(4097, 'v'), absl::ZeroDuration());
  EXPECT_EQ(value.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(value.status().message().find("4097 bytes"), std::string::npos)
      << value.status();
  EXPECT_TRUE(
      table.Meet("g", 0, 2, std::string(4096, 'v'), absl::ZeroDuration()).ok());
  EXPECT_EQ(table.Meet("", 0, 2, "x", absl::ZeroDuration()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(RendezvousTableTest, RefusesRanksOutsideTheGroup) {
  FakeClock clock;
  RendezvousTable table(&clock);
  EXPECT_EQ(table.Meet("g", 2, 2, "", absl::ZeroDuration()).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(table.Meet("g", 0, 0, "x", absl::ZeroDuration()).status().code(),
            absl::StatusCode::kInvalidArgument);
  // Only rank 0 posts.
  EXPECT_EQ(table.Meet("g", 1, 2, "x", absl::ZeroDuration()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(RendezvousTableTest, ASecondPostMustRepeatTheFirst) {
  FakeClock clock;
  RendezvousTable table(&clock);
  ASSERT_TRUE(table.Meet("g", 0, 2, "one", absl::ZeroDuration()).ok());
  // A retried post is fine.
  EXPECT_EQ(ValueOf(table.Meet("g", 0, 2, "one", absl::ZeroDuration())), "one");
  Result other = table.Meet("g", 0, 2, "two", absl::ZeroDuration());
  EXPECT_EQ(other.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(other.status().message().find("fresh group name"),
            std::string::npos)
      << other.status();
  EXPECT_EQ(table.Meet("g", 0, 3, "one", absl::ZeroDuration()).status().code(),
            absl::StatusCode::kFailedPrecondition);
  // A rank that disagrees about the size learns it.
  Result size = table.Meet("g", 1, 3, "", absl::ZeroDuration());
  EXPECT_EQ(size.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(size.status().message().find("has size 2"), std::string::npos)
      << size.status();
  EXPECT_EQ(ValueOf(table.Meet("g", 1, 2, "", absl::ZeroDuration())), "one");
}

TEST(RendezvousTableTest, ShutdownWakesWaitingRanks) {
  FakeClock clock;
  RendezvousTable table(&clock);
  Result waited(std::nullopt);
  const absl::Time started = absl::Now();
  std::thread rank1(
      [&] { waited = table.Meet("g", 1, 2, "", absl::Seconds(30)); });
  AwaitWaiters(table, 1);
  table.Shutdown();
  rank1.join();
  EXPECT_EQ(waited.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_LT(absl::Now() - started, absl::Seconds(20));
  EXPECT_EQ(table.Meet("h", 0, 2, "x", absl::ZeroDuration()).status().code(),
            absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace reelfarm
