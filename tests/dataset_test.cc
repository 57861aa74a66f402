#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <fstream>
#include <iterator>

#include "core/cifar_reader.h"
#include "core/coding.h"
#include "core/idx_reader.h"
#include "core/synthetic.h"
#include "tests/test_util.h"

namespace xfed {
namespace {

using testing::TempDir;
using testing::write_bytes;

Bytes idx_bytes(const std::vector<uint32_t>& dims, const std::vector<uint8_t>& data) {
  Bytes b{0, 0, 0x08, static_cast<uint8_t>(dims.size())};
  for (auto d : dims)
    for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<uint8_t>(d >> s));
  b.insert(b.end(), data.begin(), data.end());
  return b;
}

void write_gz(const std::string& path, const Bytes& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(f);
}

Bytes read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::vector<uint8_t> iota_bytes(size_t n) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(i % 251);
  return v;
}

TEST(Idx, ReadsRawAndGzipIdentically) {
  TempDir dir;
  const auto bytes = idx_bytes({3, 2, 4}, iota_bytes(24));
  write_bytes(dir.file("a.idx"), bytes);
  write_gz(dir.file("a.idx.gz"), bytes);
  for (const auto& name : {"a.idx", "a.idx.gz"}) {
    auto arr = read_idx(dir.file(name));
    ASSERT_TRUE(arr) << arr.message();
    EXPECT_EQ(arr.value().dims, (std::vector<int64_t>{3, 2, 4}));
    EXPECT_EQ(arr.value().data, iota_bytes(24));
  }
}

struct BadIdx {
  const char* name;
  Bytes bytes;
  const char* expected;
};

void PrintTo(const BadIdx& b, std::ostream* os) { *os << b.name; }

class IdxCorruption : public ::testing::TestWithParam<BadIdx> {};

TEST_P(IdxCorruption, FailsNamingTheFile) {
  TempDir dir;
  const auto path = dir.file("bad.idx.gz");
  write_gz(path, GetParam().bytes);
  auto arr = read_idx(path);
  ASSERT_FALSE(arr);
  EXPECT_NE(arr.message().find(path), std::string::npos) << arr.message();
  EXPECT_NE(arr.message().find(GetParam().expected), std::string::npos) << arr.message();
}

Bytes with(Bytes b, size_t at, uint8_t v) {
  b[at] = v;
  return b;
}

INSTANTIATE_TEST_SUITE_P(
    All, IdxCorruption,
    ::testing::Values(
        BadIdx{"magic", with(idx_bytes({2}, {1, 2}), 0, 1), "bad magic"},
        BadIdx{"type", with(idx_bytes({2}, {1, 2}), 2, 0x0d), "unsupported IDX element type"},
        BadIdx{"ndims", with(idx_bytes({2}, {1, 2}), 3, 0), "bad IDX dimension count"},
        BadIdx{"zero_dim", idx_bytes({0}, {}), "is 0"},
        BadIdx{"truncated_header", Bytes{0, 0, 8, 3, 0, 0}, "truncated IDX header"},
        BadIdx{"truncated_data", idx_bytes({2, 5}, iota_bytes(7)), "truncated IDX data"},
        BadIdx{"trailing", idx_bytes({2}, iota_bytes(3)), "trailing bytes"},
        BadIdx{"empty", Bytes{}, "truncated IDX header"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(Idx, TruncatedGzipStreamIsAnError) {
  TempDir dir;
  const auto path = dir.file("cut.gz");
  write_gz(path, idx_bytes({100}, iota_bytes(100)));
  std::filesystem::resize_file(path, std::filesystem::file_size(path) - 12);
  EXPECT_FALSE(read_idx(path));
}

// A flipped byte of the gzip trailer's CRC is zlib's "incorrect data check", named as a
// corrupt file (it was once reported as "trailing bytes").
TEST(Idx, GzipCrcErrorIsNamedAsCorruption) {
  TempDir dir;
  const auto path = dir.file("crc.gz");
  write_gz(path, idx_bytes({100}, iota_bytes(100)));
  auto bytes = read_all(path);
  bytes[bytes.size() - 8] ^= 0xff;  // the trailer: CRC-32, then the length
  write_bytes(path, bytes);
  auto r = read_idx(path);
  ASSERT_FALSE(r);
  EXPECT_NE(r.message().find("corrupt compressed data"), std::string::npos) << r.message();
  EXPECT_EQ(r.message().find("trailing"), std::string::npos) << r.message();
}

// A header claiming 2^32 bytes in a 130-byte file is refused after reading what is there,
// without allocating what the header claims; directories are refused by name.
TEST(Idx, SizesAreBoundedByWhatTheFileHolds) {
  TempDir dir;
  write_bytes(dir.file("huge.idx"), idx_bytes({65536, 65536}, iota_bytes(118)));
  auto r = read_idx(dir.file("huge.idx"));
  ASSERT_FALSE(r);
  EXPECT_NE(r.message().find("the file holds 118"), std::string::npos) << r.message();
  // Found by fuzz_idx: two 2^32 - 1 dimensions overflowed the size product (UB).
  write_bytes(dir.file("overflow.idx"), Bytes{0, 0, 8, 3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 8, 0, 0xd0,
                                              0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 8, 0xdd});
  auto o = read_idx(dir.file("overflow.idx"));
  ASSERT_FALSE(o);
  EXPECT_NE(o.message().find("IDX sizes too large"), std::string::npos) << o.message();
  auto d = read_idx(dir.path());
  ASSERT_FALSE(d);
  EXPECT_NE(d.message().find("is a directory"), std::string::npos) << d.message();
}

void write_mnist_dir(const TempDir& dir, int n_train, int n_train_labels) {
  write_gz(dir.file("train-images-idx3-ubyte.gz"), idx_bytes({uint32_t(n_train), 4, 4}, iota_bytes(n_train * 16)));
  std::vector<uint8_t> labels(n_train_labels);
  for (int i = 0; i < n_train_labels; ++i) labels[i] = i % 10;
  write_gz(dir.file("train-labels-idx1-ubyte.gz"), idx_bytes({uint32_t(n_train_labels)}, labels));
  write_bytes(dir.file("t10k-images-idx3-ubyte"), idx_bytes({10, 4, 4}, iota_bytes(160)));  // raw
  write_bytes(dir.file("t10k-labels-idx1-ubyte"), idx_bytes({10}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
}

TEST(MnistDir, LoadsAndNormalizes) {
  TempDir dir;
  write_mnist_dir(dir, 20, 20);
  auto data = load_mnist_dir(dir.path(), "mnist", 0.5, 0.25);
  ASSERT_TRUE(data) << data.message();
  const auto& train = data.value().train;
  EXPECT_EQ(train.images.sizes(), (std::vector<int64_t>{20, 1, 4, 4}));
  EXPECT_EQ(data.value().test.size(), 10);
  // pixel 0 of sample 0 is byte 0 -> (0/255 - 0.5) / 0.25 = -2; pixel 5 is byte 5
  EXPECT_FLOAT_EQ(train.images[0][0][0][0].item<float>(), -2.0f);
  EXPECT_FLOAT_EQ(train.images[0][0][1][1].item<float>(), (5 / 255.0f - 0.5f) / 0.25f);
  EXPECT_EQ(train.labels[13].item<int64_t>(), 3);
  EXPECT_EQ(train.class_histogram(), (std::vector<int64_t>{2, 2, 2, 2, 2, 2, 2, 2, 2, 2}));
}

TEST(MnistDir, LabelCountMismatchNamesTheFile) {
  TempDir dir;
  write_mnist_dir(dir, 20, 19);
  auto data = load_mnist_dir(dir.path(), "mnist", 0, 1);
  ASSERT_FALSE(data);
  EXPECT_NE(data.message().find("train-labels-idx1-ubyte.gz: 19 labels for 20 images"),
            std::string::npos)
      << data.message();
}

TEST(MnistDir, MissingFileSaysWhereItLooked) {
  TempDir dir;
  auto data = load_mnist_dir(dir.path(), "mnist", 0, 1);
  ASSERT_FALSE(data);
  EXPECT_NE(data.message().find(dir.file("train-images-idx3-ubyte")), std::string::npos);
  EXPECT_NE(data.message().find("mnist IDX files"), std::string::npos) << data.message();
  EXPECT_EQ(data.message().find("dataset-fashion-mnist"), std::string::npos) << "not packaged for mnist";
  auto fashion = load_mnist_dir(dir.path(), "fashion-mnist", 0, 1);
  EXPECT_NE(fashion.message().find("install dataset-fashion-mnist"), std::string::npos);
}

Bytes cifar_records(int n, uint8_t label_base = 0) {
  Bytes b;
  for (int i = 0; i < n; ++i) {
    b.push_back(static_cast<uint8_t>((label_base + i) % 10));
    for (int p = 0; p < 3072; ++p) b.push_back(static_cast<uint8_t>((i + p) % 256));
  }
  return b;
}

TEST(Cifar10, ReadsRecordsInChwOrder) {
  TempDir dir;
  write_bytes(dir.file("data_batch_1.bin"), cifar_records(3));
  write_bytes(dir.file("data_batch_2.bin"), cifar_records(2, 5));
  write_bytes(dir.file("test_batch.bin"), cifar_records(4));
  auto data = load_cifar10_dir(dir.path());
  ASSERT_TRUE(data) << data.message();
  const auto& train = data.value().train;
  EXPECT_EQ(train.images.sizes(), (std::vector<int64_t>{5, 3, 32, 32}));
  EXPECT_EQ(train.labels[3].item<int64_t>(), 5);
  // sample 1, channel 1 (green), row 0, col 2 is record byte 1 + 1024 + 2 -> value (1+1026)%256
  const float raw = ((1 + 1026) % 256) / 255.0f;
  EXPECT_NEAR(train.images[1][1][0][2].item<float>(), (raw - 0.4822f) / 0.2435f, 1e-5);
  EXPECT_EQ(data.value().test.size(), 4);
}

TEST(Cifar10, BadSizeAndLabelAreRejected) {
  TempDir dir;
  auto bytes = cifar_records(2);
  bytes.pop_back();
  write_bytes(dir.file("short.bin"), bytes);
  auto r = read_cifar10_file(dir.file("short.bin"));
  ASSERT_FALSE(r);
  EXPECT_NE(r.message().find("not a positive multiple of the 3073-byte"), std::string::npos);
  auto bad_label = cifar_records(1);
  bad_label[0] = 10;
  write_bytes(dir.file("label.bin"), bad_label);
  auto r2 = read_cifar10_file(dir.file("label.bin"));
  ASSERT_FALSE(r2);
  EXPECT_NE(r2.message().find("label above 9"), std::string::npos);
  EXPECT_FALSE(load_cifar10_dir(dir.path()));  // no data_batch_*.bin
}

TEST(Synthetic, IsSeededBalancedAndShaped) {
  SyntheticOptions o;
  o.classes = 4;
  o.channels = 3;
  o.height = 5;
  o.width = 6;
  o.train_size = 40;
  o.test_size = 8;
  const auto a = make_synthetic(o), b = make_synthetic(o);
  EXPECT_TRUE(a.train.images.equal(b.train.images));
  EXPECT_EQ(a.train.images.sizes(), (std::vector<int64_t>{40, 3, 5, 6}));
  EXPECT_EQ(a.train.class_histogram(), (std::vector<int64_t>{10, 10, 10, 10}));
  o.seed = 2;
  EXPECT_FALSE(make_synthetic(o).train.images.equal(a.train.images));
}

}  // namespace
}  // namespace xfed
