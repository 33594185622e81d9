// Corrupt and hostile inputs: each must give a clear error, never a crash,
// and a pickle must never get anything called.
#include <gtest/gtest.h>
#include <unistd.h>

#include <random>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "node/pipeline/weights/checkpoint.h"
#include "node/pipeline/weights/restricted_unpickler.h"
#include "node/pipeline/weights/zip_archive.h"
#include "tests/pipeline/checkpoint_test_util.h"
#include "tests/pipeline/fixtures.h"

namespace reelfarm::pipeline {
namespace {

using namespace std::string_literals;  // NOLINT: byte strings with NULs

using ::reelfarm::pipeline::testing::FixturePath;
using ::reelfarm::pipeline::testing::FloatRange;
using ::reelfarm::pipeline::testing::PickleWriter;
using ::reelfarm::pipeline::testing::TensorItems;
using ::reelfarm::pipeline::testing::TorchZip;
using ::reelfarm::pipeline::testing::ZipWriter;

// The error of loading `pickle` from an archive with storage "0" of 4 floats.
absl::Status PickleError(const std::string& pickle) {
  absl::StatusOr<TensorMap> sd =
      ParseCheckpoint(TorchZip(pickle, {{"0", FloatRange(4)}}), "evil.ckpt");
  return sd.ok() ? absl::OkStatus() : sd.status();
}

// Expects an InvalidArgument error that names the file and says `what`.
void ExpectError(const absl::Status& s, const std::string& what) {
  SCOPED_TRACE(what);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "evil.ckpt")) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), what)) << s;
}

std::string Tensor(int64_t numel, int64_t offset, std::vector<int64_t> sizes,
                   std::vector<int64_t> strides, const std::string& key = "0") {
  return PickleWriter()
      .Proto()
      .Op('}')
      .Op('(')
      .Raw(TensorItems(
          {{"w", "FloatStorage", key, numel, offset, sizes, strides}}))
      .Op('u')
      .Op('.')
      .bytes();
}

std::string SmallArchive() {
  return TorchZip(Tensor(4, 0, {4}, {1}), {{"0", FloatRange(4)}});
}

TEST(CheckpointHostileTest, SmallArchiveIsValid) {
  EXPECT_TRUE(ParseCheckpoint(SmallArchive(), "evil.ckpt").ok());
}

TEST(CheckpointHostileTest, EveryTruncationFails) {
  const std::string zip = SmallArchive();
  for (size_t n = 0; n < zip.size(); ++n) {
    absl::StatusOr<TensorMap> sd =
        ParseCheckpoint(absl::string_view(zip).substr(0, n), "evil.ckpt");
    EXPECT_FALSE(sd.ok()) << n;
  }
  FileMapping file;  // the fixture, cut short, too
  ASSERT_TRUE(
      file.Open(FixturePath("original/animatediff_motion_module_v2_tiny.ckpt"))
          .ok());
  for (size_t n : {size_t{0}, size_t{4}, size_t{30}, file.bytes().size() / 2,
                   file.bytes().size() - 23, file.bytes().size() - 1}) {
    absl::Status s =
        ParseCheckpoint(file.bytes().substr(0, n), "evil.ckpt").status();
    ExpectError(s, "not a valid zip archive");
  }
}

TEST(CheckpointHostileTest, CorruptCentralDirectoryFails) {
  const std::string zip = SmallArchive();
  const size_t cd = zip.find("PK\x01\x02");
  const size_t end = zip.rfind("PK\x05\x06");
  const size_t end64 = zip.rfind("PK\x06\x06");
  ASSERT_NE(cd, std::string::npos);
  auto corrupt = [&](size_t at, absl::string_view bytes) {
    std::string bad = zip;
    bad.replace(at, bytes.size(), bytes.data(), bytes.size());
    return ParseCheckpoint(bad, "evil.ckpt").status();
  };
  ExpectError(corrupt(cd, "XX"), "has no valid header");
  ExpectError(corrupt(end64 + 48, "\xff\xff\xff\x7f"), "lies outside the file");
  ExpectError(corrupt(end64 + 24, "\xff\xff\xff\xff\0\0\0\0\xff\xff\xff\xff"s),
              "cannot fit");
  ExpectError(corrupt(cd + 28, "\xff\xff"), "overruns the central directory");
  ExpectError(corrupt(cd + 42, "\x10\0\0\0"s), "no local header");
  ExpectError(corrupt(cd + 20, "\xff\xff\xff\x0f"), "differ");
  ExpectError(corrupt(cd + 10, "\x0e\0"s), "compression method 14");
  ExpectError(corrupt(cd + 8, "\x01\0"s), "encrypted");
  ExpectError(corrupt(end, "XXXX"), "no end-of-central-directory");
  ExpectError(corrupt(end - 20 + 8, "\x05"), "zip64 end record");
  // A renamed member: the local header no longer matches.
  ExpectError(corrupt(cd + 46, "b"), "different name");
  // A member's data may not run into the directory.
  std::string big = zip;
  const size_t first_cd_csize = cd + 20, first_cd_size = cd + 24;
  big.replace(first_cd_csize, 4, "\0\0\x01\0", 4);
  big.replace(first_cd_size, 4, "\0\0\x01\0", 4);
  ExpectError(ParseCheckpoint(big, "evil.ckpt").status(),
              "overruns the central directory");
}

TEST(CheckpointHostileTest, Zip64FieldsAreReadAndChecked) {
  ZipWriter zip;
  zip.Add("archive/data.pkl", Tensor(4, 0, {4}, {1}));
  zip.Add("archive/data/0", FloatRange(4));
  const std::string big = zip.Finish(/*zip64_end=*/true, /*zip64_extras=*/true);
  absl::StatusOr<TensorMap> sd = ParseCheckpoint(big, "evil.ckpt");
  ASSERT_TRUE(sd.ok()) << sd.status();
  EXPECT_EQ(sd->at("w").numel(), 4);
  // Saturated fields need the zip64 records and fields they point to.
  ZipWriter no_end;
  no_end.Add("archive/data.pkl", Tensor(4, 0, {4}, {1}));
  ExpectError(ParseCheckpoint(no_end.Finish(false, true), "evil.ckpt").status(),
              "needs zip64 records");
  std::string bad = big;
  const size_t extra = bad.find("PK\x01\x02") + 46 + 16;  // after the name
  bad[extra + 2] = 8;  // the field now holds only the size
  ExpectError(ParseCheckpoint(bad, "evil.ckpt").status(), "zip64 extra field");
  bad = big;
  bad[extra + 4 + 16] = 0x40;  // the offset: past the central directory
  ExpectError(ParseCheckpoint(bad, "evil.ckpt").status(), "no local header");
}

TEST(CheckpointHostileTest, DuplicateAndMissingMembersFail) {
  ZipWriter zip;
  zip.Add("archive/data.pkl", Tensor(4, 0, {4}, {1}));
  zip.Add("archive/data.pkl", Tensor(4, 0, {4}, {1}));
  ExpectError(ParseCheckpoint(zip.Finish(), "evil.ckpt").status(),
              "appears twice");
  ZipWriter none;
  none.Add("archive/version", "3\n");
  ExpectError(ParseCheckpoint(none.Finish(false), "evil.ckpt").status(),
              "no archive/data.pkl");
}

TEST(CheckpointHostileTest, ForbiddenGlobalsAreRejectedAndNeverCalled) {
  const std::string marker = ::testing::TempDir() + "/pwned";
  unlink(marker.c_str());
  const std::pair<const char*, const char*> globals[] = {
      {"os", "system"},
      {"posix", "system"},
      {"builtins", "eval"},
      {"__builtin__", "getattr"},
      {"builtins", "exec"},
      {"subprocess", "Popen"},
      {"torch.storage", "_load_from_bytes"},
      {"_codecs", "encode"},
      {"torch", "load"},
      {"collections", "OrderedDictX"},
  };
  for (const auto& [module, name] : globals) {
    for (bool stack_global : {false, true}) {
      PickleWriter w;
      w.Proto(stack_global ? 4 : 2);
      if (stack_global) {
        w.StackGlobal(module, name);
      } else {
        w.Global(module, name);
      }
      w.Op('(').Str(absl::StrCat("touch ", marker)).Op('t').Op('R').Op('.');
      const absl::Status s = PickleError(w.bytes());
      ExpectError(s, absl::StrCat("'", module, ".", name, "' is not allowed"));
      EXPECT_TRUE(absl::StrContains(s.message(), "pickle offset")) << s;
    }
  }
  EXPECT_NE(access(marker.c_str(), F_OK), 0) << "a pickle ran a command";
}

TEST(CheckpointHostileTest, StorageProblemsAreReported) {
  // Missing from the archive.
  ExpectError(PickleError(Tensor(4, 0, {4}, {1}, "7")),
              "storage '7': no entry archive/data/7");
  // The storage is too small for the view's size, stride or offset.
  ExpectError(PickleError(Tensor(4, 0, {5}, {1})), "overruns storage '0'");
  ExpectError(PickleError(Tensor(4, 0, {2, 2}, {3, 1})), "overruns storage");
  ExpectError(PickleError(Tensor(4, 3, {2}, {1})), "overruns storage");
  ExpectError(PickleError(Tensor(4, 5, {0}, {1})), "overruns storage");
  ExpectError(PickleError(Tensor(4, -1, {1}, {1})), "overruns storage");
  ExpectError(PickleError(Tensor(4, 0, {-1}, {1})), "non-negative");
  ExpectError(PickleError(Tensor(4, 0, {int64_t{1} << 62, 8}, {1, 1})),
              "overflows");
  // The persistent id claims more elements than the entry's bytes hold.
  ExpectError(PickleError(Tensor(5, 0, {5}, {1})), "holds 16 bytes");
  ExpectError(PickleError(Tensor(int64_t{1} << 62, 0, {1}, {1})), "too large");
  // Zero strides could turn 4 bytes into terabytes of output.
  ExpectError(PickleError(Tensor(4, 0, {int64_t{1} << 40}, {0})),
              "far more elements");
}

TEST(CheckpointHostileTest, MalformedPicklesAreReported) {
  auto p = [](absl::string_view body) {
    return PickleError(absl::StrCat("\x80\x02", body));
  };
  ExpectError(p("}\xff."), "pickle offset 3 (opcode 0xff): unknown opcode");
  ExpectError(p("}ccollections\nOrderedDict\n)\x81."),
              "unsupported opcode NEWOBJ");
  ExpectError(p("}I1\n."), "unsupported opcode INT");
  ExpectError(p("}(."), "unbalanced");
  ExpectError(p("}K\x01t."), "unbalanced MARK");
  ExpectError(p("}u."), "unbalanced MARK");
  ExpectError(p("}(K\x01u."), "odd number");
  ExpectError(p("}K\x01."), "2 values on the stack");
  ExpectError(p("}"), "ends without STOP");
  ExpectError(p("}(0a."), "stack underflow");
  ExpectError(p("}h\x05."), "memo index 5");
  ExpectError(p("}X\xff\xff\xff\x7f."), "exceeds the limit");
  ExpectError(p("}X\x10\0\0\0abc"s), "only 3 remain");
  ExpectError(p("}\x8a\x09"
                "123456789."),
              "too large");
  ExpectError(p("K\x01."), "holds a int");
  ExpectError(p("}cposix\nsystem"), "unterminated");
  ExpectError(p("}K\x01K\x02\x93."), "STACK_GLOBAL needs two strings");
  ExpectError(p("}ctorch\nFloatStorage\n)R."), "persistent id");
  ExpectError(p("}X\x01\0\0\0aQ."s), "persistent id");
  ExpectError(p("]K\x01"
                "b."),
              "BUILD");
}

TEST(CheckpointHostileTest, DeepNestingAndCyclesAreBounded) {
  // Open MARKs, nested tuples, a long stack, a dict that contains itself.
  ExpectError(PickleError(std::string("\x80\x02") + std::string(100000, '(')),
              "open MARKs");
  ExpectError(
      PickleError(absl::StrCat("\x80\x02)", std::string(100000, '\x85'), ".")),
      "nested deeper");
  ExpectError(
      PickleError(absl::StrCat("\x80\x02", std::string(3 << 20, ']'), ".")),
      "stack deeper");
  ExpectError(PickleError("\x80\x02}q\0X\x01\0\0\0"
                          "ah\0s."s),
              "nested deeper");
  // A list that contains itself is data, not a crash.
  EXPECT_TRUE(PickleError("\x80\x02}X\x01\0\0\0a]q\x01h\x01"
                          "as."s)
                  .ok());
}

// Random byte flips in a real data.pkl: whatever happens, no crash.
TEST(CheckpointHostileTest, MutatedRealPickleNeverCrashes) {
  FileMapping file;
  ASSERT_TRUE(
      file.Open(FixturePath("original/animatediff_motion_module_v2_tiny.ckpt"))
          .ok());
  absl::StatusOr<ZipArchive> zip = ZipArchive::Parse(file.bytes(), "fixture");
  ASSERT_TRUE(zip.ok()) << zip.status();
  const ZipEntry* pkl = zip->Find("animatediff_motion_module_v2_tiny/data.pkl");
  ASSERT_NE(pkl, nullptr);
  std::string scratch;
  const std::string original(*zip->Read(*pkl, &scratch));
  const std::string storage(1024, '\0');
  const StorageResolver resolver = [&](absl::string_view) {
    return absl::StatusOr<absl::string_view>(storage);
  };
  std::mt19937 rng(1234);
  int failures = 0;
  for (int i = 0; i < 300; ++i) {
    std::string bad = original.substr(0, 1 + rng() % 4000);
    for (int k = 0; k < 3; ++k)
      bad[rng() % bad.size()] = static_cast<char>(rng());
    bad += '.';
    absl::StatusOr<PickleResult> r = Unpickle(bad, resolver, "fuzz");
    if (r.ok()) {
      failures += !StateDictFromPickle(*r, "fuzz").ok();
    } else {
      ++failures;
    }
  }
  EXPECT_GT(failures, 0);
}

}  // namespace
}  // namespace reelfarm::pipeline
