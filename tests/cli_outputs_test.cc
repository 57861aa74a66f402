// The CLI against mistakes that used to cost data or a run without a word: outputs that would
// write one file, resumes without the clients' state of their checkpoint, configs that give a
// key twice, odd names and endpoints, bandwidths that are no number, a run in which no update
// ever arrived. Each: the exit code and the words of the one-line error. Runs the real binary.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tests/cli_run.h"
#include "tests/test_util.h"
#include "xfed/config.h"

namespace xfed {
namespace {

using testing::TempDir;
using testing::xfed;

const std::string kSmall =
    "simulate --dataset synthetic --synthetic-shape 1x8x8 --synthetic-train 300 "
    "--synthetic-test 100 --clients 3 --widths 8,4 --quiet ";

TEST(CliOutputs, OutputsThatWouldWriteOneFileAreRefusedNamingBoth) {
  TempDir dir;
  const std::string x = dir.file("x"), m = dir.file("m");
  testing::expect_usage_error(kSmall + "--rounds 1 --metrics " + x + " --save-model " + x,
                              "--metrics " + x + " and --save-model " + x + " write the same file");
  testing::expect_usage_error(kSmall + "--rounds 1 --metrics " + m + ".json --save-model " + m,
                              "--metrics " + m + ".json and --save-model " + m + ".json write the same file");
  std::filesystem::create_directories(dir.file("sub"));
  testing::expect_usage_error(kSmall + "--rounds 1 --metrics " + dir.file("sub/../x") + " --save-model " + x,
                              "write the same file");
  std::filesystem::create_directories(dir.file("ck"));
  testing::expect_usage_error(kSmall + "--rounds 1 --checkpoint-dir " + dir.file("ck") + " --metrics " +
                                  dir.file("ck/checkpoint.xfed"),
                              "--metrics " + dir.file("ck/checkpoint.xfed") + " is a file that --checkpoint-dir");
  testing::expect_usage_error(kSmall + "--rounds 1 --checkpoint-dir " + dir.file("ck") + " --save-model " +
                                  dir.file("ck/clients.xfed"),
                              "--save-model " + dir.file("ck/clients.xfed") + " is a file that --checkpoint-dir");
  EXPECT_FALSE(std::filesystem::exists(x)) << "nothing was written";
  const auto fine = xfed(kSmall + "--rounds 1 --checkpoint-dir " + dir.file("ck") + " --metrics " +
                         dir.file("ck/metrics.jsonl") + " --save-model " + dir.file("model"));
  EXPECT_EQ(fine.code, 0) << "other names in the checkpoint folder are fine\n" << fine.out;
}

// A checkpoint of round 3 whose clients' file is damaged, cut, empty or gone (and no .prev
// of round 3): the resume could not be bit-identical, so it is refused naming the file.
TEST(CliOutputs, AResumeWithoutItsClientsStateIsRefusedNamingTheFile) {
  TempDir dir;
  const std::string run = kSmall + "--compress topk:0.1 --checkpoint-dir " + dir.file("ck") + " ";
  ASSERT_EQ(xfed(run + "--rounds 3").code, 0);
  const std::string clients = dir.file("ck/clients.xfed");
  const auto saved = dir.file("saved.xfed");
  std::filesystem::copy_file(clients, saved);
  std::filesystem::remove(clients + ".prev");  // round 2's: no exact fallback
  const auto size = std::filesystem::file_size(saved);
  const std::vector<std::pair<std::string, std::function<void()>>> damages = {
      {"damaged", [&] { std::fstream f(clients, std::ios::in | std::ios::out | std::ios::binary); f.seekp(static_cast<std::streamoff>(size / 2)); f.put('\x5a'); f.put('\xa5'); }},
      {"cut", [&] { std::filesystem::resize_file(clients, size / 2); }},
      {"empty", [&] { std::filesystem::resize_file(clients, 0); }},
      {"gone", [&] { std::filesystem::remove(clients); }}};
  for (const auto& [what, damage] : damages) {
    std::filesystem::copy_file(saved, clients, std::filesystem::copy_options::overwrite_existing);
    damage();
    testing::expect_usage_error(run + "--rounds 5 --resume", "cannot resume: " + clients);
  }
  std::filesystem::copy_file(saved, clients, std::filesystem::copy_options::overwrite_existing);
  EXPECT_EQ(xfed(run + "--rounds 5 --resume").code, 0) << "the intact file resumes";
}

TEST(CliOutputs, AKeyGivenTwiceInAJsonConfigIsRefused) {
  TempDir dir;
  std::ofstream(dir.file("twice.json")) << R"({"rounds": 2, "lr": 0.1, "lr": 0.2})";
  testing::expect_usage_error(kSmall + "--config " + dir.file("twice.json"), "the key 'lr' is given twice");
  std::ofstream(dir.file("spelled.json")) << R"({"lr_decay": 0.9, "lr-decay": 0.8})";
  testing::expect_usage_error(kSmall + "--config " + dir.file("spelled.json"), "the key 'lr-decay' is given twice");
  std::ofstream(dir.file("once.json")) << R"({"rounds": 1, "lr": 0.1})";
  EXPECT_EQ(xfed(kSmall + "--config " + dir.file("once.json")).code, 0);
}

TEST(CliOutputs, NamesEndpointsAndBandwidthsThatMeanNothingAreRefused) {
  TempDir dir;
  testing::expect_usage_error("keygen --out ''", "--out '': expected a file name");
  testing::expect_usage_error("keygen --out " + dir.path() + "/", "expected a file name");
  EXPECT_TRUE(std::filesystem::is_empty(dir.path())) << "no hidden .key or .pub";
  testing::expect_usage_error(kSmall + "--link 1e-320mbit", "--link '1e-320mbit'");
  testing::expect_usage_error(kSmall + "--link 1mbit:1e300s", "--link '1mbit:1e300s'");
  if (!XFED_HAVE_ZMQ) GTEST_SKIP() << "xfed was built without ZeroMQ";
  for (const std::string bind : {"tcp://127.0.0.1:99999", "tcp://127.0.0.1:0", "http://127.0.0.1:5555", "tcp://:5555"})
    testing::expect_usage_error("coordinator --authorized-keys none --bind " + bind, "--bind: '" + bind + "'");
  for (const std::string connect : {"http://127.0.0.1:5555", "tcp://127.0.0.1:*", "tcp://127.0.0.1:70000"})
    testing::expect_usage_error("worker --key none --client 0 --connect " + connect, "--connect: '" + connect + "'");
}

// A deadline no client can meet (10 us for 20 local epochs): every round closes empty. Not a
// result: exit 1, saying so.
TEST(CliOutputs, ARunInWhichNoUpdateEverArrivedFails) {
  const auto r = xfed("simulate --dataset synthetic --synthetic-shape 1x8x8 --synthetic-train 3000 --synthetic-test 100 "
                      "--clients 3 --quiet --local-epochs 20 --rounds 2 --round-timeout 1e-5");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("no update arrived in any of rounds 1..2"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace xfed
