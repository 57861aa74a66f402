#include "core/cifar_reader.h"

#include <ATen/ATen.h>

#include <filesystem>
#include "core/file_io.h"
#include <vector>

namespace xfed {
namespace {

constexpr uint64_t kMaxBatchFileBytes = uint64_t{1} << 30;  // a real batch is 30,730,000

Dataset concat(const std::vector<Dataset>& parts) {
  std::vector<at::Tensor> xs, ys;
  for (const auto& p : parts) {
    xs.push_back(p.images);
    ys.push_back(p.labels);
  }
  return Dataset{at::cat(xs), at::cat(ys), 10};
}

}  // namespace

Result<Dataset> read_cifar10_file(const std::string& path) {
  auto bytes = read_file_bytes(path, kMaxBatchFileBytes);
  if (!bytes) return bytes.status();
  return decode_cifar10(bytes.value(), path);
}

Result<Dataset> decode_cifar10(const std::vector<uint8_t>& b, const std::string& path) {
  if (b.empty() || b.size() % kCifarRecordBytes != 0)
    return Status::corruption(path + ": size " + std::to_string(b.size()) +
                         " is not a positive multiple of the 3073-byte CIFAR-10 record");
  const int64_t n = static_cast<int64_t>(b.size()) / kCifarRecordBytes;
  auto raw = at::from_blob(const_cast<uint8_t*>(b.data()), {n, kCifarRecordBytes}, at::kByte);
  auto labels = raw.select(1, 0).to(at::kLong);
  if (labels.max().item<int64_t>() > 9) return Status::corruption(path + ": label above 9");
  auto images = raw.narrow(1, 1, kCifarRecordBytes - 1).reshape({n, 3, 32, 32});
  const auto mean = at::tensor({0.4914f, 0.4822f, 0.4465f}).view({1, 3, 1, 1});
  const auto stdv = at::tensor({0.2470f, 0.2435f, 0.2616f}).view({1, 3, 1, 1});
  auto x = images.to(at::kFloat).div_(255.0).sub_(mean).div_(stdv);
  return Dataset{x, labels, 10};
}

Result<TrainTestData> load_cifar10_dir(const std::string& dir, bool with_test) {
  namespace fs = std::filesystem;
  std::vector<Dataset> train_parts;
  for (int i = 1; i <= 5; ++i) {
    const auto p = fs::path(dir) / ("data_batch_" + std::to_string(i) + ".bin");
    if (!fs::exists(p)) continue;
    auto part = read_cifar10_file(p.string());
    if (!part) return part.status();
    train_parts.push_back(std::move(part).value());
  }
  if (train_parts.empty())
    return Status::io("missing data file " + (fs::path(dir) / "data_batch_1.bin").string() +
                         " (CIFAR-10 binary version; set --data-dir)");
  if (!with_test) return TrainTestData{"cifar10", concat(train_parts), Dataset{}};
  const auto test_path = (fs::path(dir) / "test_batch.bin").string();
  if (!fs::exists(test_path)) return Status::io("missing data file " + test_path);
  auto test = read_cifar10_file(test_path);
  if (!test) return test.status();
  return TrainTestData{"cifar10", concat(train_parts), std::move(test).value()};
}

}  // namespace xfed
