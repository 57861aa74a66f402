// IDX files (the MNIST / Fashion-MNIST format), gzip-compressed or raw.
//
// An IDX file is: two zero bytes, a type byte (0x08 = unsigned byte, the only type these
// datasets use), a dimension count, big-endian uint32 sizes, then the data. read_idx
// validates all of it — magic, type, dimension count, that the data is exactly as long as
// the sizes say — and names the file in every error. Reading .gz and raw is the same call
// (zlib reads raw files transparently).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/dataset.h"
#include "core/status.h"

namespace xfed {

struct IdxArray {
  std::vector<int64_t> dims;
  std::vector<uint8_t> data;
};

Result<IdxArray> read_idx(const std::string& path);

// Loads an MNIST-layout directory: {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz].
// Images are scaled to [0,1] and normalized with the given mean/std.
// with_test false: the training files alone (a device with its own data needs no test set).
Result<TrainTestData> load_mnist_dir(const std::string& dir, const std::string& name,
                                     double mean, double stddev, bool with_test = true);

}  // namespace xfed
