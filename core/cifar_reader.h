// CIFAR-10 binary format: records of 1 label byte + 3072 pixel bytes (3x32x32, CHW).
//
// load_cifar10_dir reads data_batch_1..5.bin (those present, at least one) and
// test_batch.bin. A file whose size is not a multiple of 3073 or that holds a label above 9
// is rejected with its path in the message. Pixels are normalized per channel with the
// usual CIFAR-10 mean/std.
#pragma once

#include <string>

#include "core/dataset.h"
#include "core/status.h"

namespace xfed {

constexpr int64_t kCifarRecordBytes = 1 + 3 * 32 * 32;

Result<Dataset> read_cifar10_file(const std::string& path);
// The same from the file's bytes (`path` names it in errors).
Result<Dataset> decode_cifar10(const std::vector<uint8_t>& bytes, const std::string& path);
// with_test false: the training batches alone (a device with its own data needs no test set).
Result<TrainTestData> load_cifar10_dir(const std::string& dir, bool with_test = true);

}  // namespace xfed
