#include "core/idx_reader.h"

#include <ATen/ATen.h>
#include <zlib.h>

#include <filesystem>

#include "core/file_io.h"
#include <memory>

namespace xfed {
namespace {

constexpr uint8_t kIdxTypeUByte = 0x08;
constexpr int64_t kMaxIdxElements = int64_t{1} << 32;

struct GzCloser {
  void operator()(gzFile_s* f) const { gzclose(f); }
};
using GzFile = std::unique_ptr<gzFile_s, GzCloser>;

// Reads exactly n bytes; false on short read or zlib error.
bool read_exact(gzFile f, void* dst, size_t n) {
  auto* p = static_cast<uint8_t*>(dst);
  while (n > 0) {
    const unsigned chunk = static_cast<unsigned>(std::min<size_t>(n, 1u << 30));
    const int got = gzread(f, p, chunk);
    if (got <= 0) return false;
    p += got;
    n -= static_cast<size_t>(got);
  }
  return true;
}

// zlib's own words for a failed read ("incorrect data check" for a CRC mismatch), or "".
std::string zlib_error(gzFile f) {
  int code = Z_OK;
  const char* text = gzerror(f, &code);
  return code == Z_OK || code == Z_STREAM_END || !text ? "" : text;
}

// Up to `want` bytes, read in chunks: memory grows with what the file really holds, never
// with what a (possibly hostile) header claims.
Status read_data(gzFile f, const std::string& path, size_t want, std::vector<uint8_t>* out) {
  constexpr size_t kFirstChunk = size_t{1} << 16, kMaxChunk = size_t{1} << 24;
  out->clear();
  for (size_t chunk = kFirstChunk; out->size() < want; chunk = std::min(2 * chunk, kMaxChunk)) {
    const size_t n = std::min(chunk, want - out->size());
    const size_t at = out->size();
    out->resize(at + n);
    const int got = gzread(f, out->data() + at, static_cast<unsigned>(n));
    if (got < 0) return Status::corruption(path + ": corrupt compressed data (" + zlib_error(f) + ")");
    out->resize(at + static_cast<size_t>(got));
    if (got == 0)
      return Status::corruption(path + ": truncated IDX data (the header claims " + std::to_string(want) +
                           " bytes, the file holds " + std::to_string(out->size()) + ")");
  }
  return Status::ok();
}

Status read_header(gzFile f, const std::string& path, std::vector<int64_t>* dims) {
  uint8_t magic[4];
  if (!read_exact(f, magic, 4)) return Status::corruption(path + ": truncated IDX header");
  if (magic[0] != 0 || magic[1] != 0)
    return Status::corruption(path + ": not an IDX file (bad magic)");
  if (magic[2] != kIdxTypeUByte)
    return Status::corruption(path + ": unsupported IDX element type " + std::to_string(magic[2]) +
                         " (only unsigned byte, 0x08)");
  if (magic[3] == 0 || magic[3] > 4)
    return Status::corruption(path + ": bad IDX dimension count " + std::to_string(magic[3]));
  int64_t total = 1;
  for (int i = 0; i < magic[3]; ++i) {
    uint8_t b[4];
    if (!read_exact(f, b, 4)) return Status::corruption(path + ": truncated IDX header");
    const int64_t d = (int64_t{b[0]} << 24) | (b[1] << 16) | (b[2] << 8) | b[3];
    if (d == 0) return Status::corruption(path + ": IDX dimension " + std::to_string(i) + " is 0");
    if (d > kMaxIdxElements / total) return Status::corruption(path + ": IDX sizes too large");  // no overflow
    total *= d;
    dims->push_back(d);
  }
  return Status::ok();
}

int64_t product(const std::vector<int64_t>& dims) {
  int64_t n = 1;
  for (auto d : dims) n *= d;
  return n;
}

// "dir/stem" with or without ".gz", whichever exists.
Result<std::string> find_file(const std::string& dir, const std::string& stem, const std::string& hint) {
  namespace fs = std::filesystem;
  for (const auto& candidate : {stem + ".gz", stem}) {
    const auto p = fs::path(dir) / candidate;
    if (fs::exists(p)) return p.string();
  }
  return Status::io("missing data file " + (fs::path(dir) / stem).string() + "[.gz] (" + hint + ")");
}

// Where to get the files: only Fashion-MNIST is a Debian package.
std::string data_hint(const std::string& name) {
  if (name == "fashion-mnist") return "set --data-dir, or install dataset-fashion-mnist";
  return "set --data-dir to a folder with the " + name + " IDX files";
}

Result<Dataset> load_split(const std::string& dir, const std::string& name, const std::string& prefix,
                           double mean, double stddev) {
  auto img_path = find_file(dir, prefix + "-images-idx3-ubyte", data_hint(name));
  if (!img_path) return img_path.status();
  auto lab_path = find_file(dir, prefix + "-labels-idx1-ubyte", data_hint(name));
  if (!lab_path) return lab_path.status();
  auto images = read_idx(img_path.value());
  if (!images) return images.status();
  auto labels = read_idx(lab_path.value());
  if (!labels) return labels.status();
  const auto& idims = images.value().dims;
  const auto& ldims = labels.value().dims;
  if (idims.size() != 3)
    return Status::corruption(img_path.value() + ": expected 3 dimensions (N, H, W)");
  if (ldims.size() != 1) return Status::corruption(lab_path.value() + ": expected 1 dimension (N)");
  if (idims[0] != ldims[0])
    return Status::corruption(lab_path.value() + ": " + std::to_string(ldims[0]) +
                         " labels for " + std::to_string(idims[0]) + " images");
  Dataset d;
  d.classes = 10;
  auto raw = at::from_blob(images.value().data.data(), {idims[0], 1, idims[1], idims[2]},
                           at::kByte);
  d.images = raw.to(at::kFloat).div_(255.0).sub_(mean).div_(stddev);
  d.labels = at::from_blob(labels.value().data.data(), {ldims[0]}, at::kByte).to(at::kLong);
  if (d.labels.max().item<int64_t>() >= d.classes)
    return Status::corruption(lab_path.value() + ": label above 9");
  return d;
}

}  // namespace

Result<IdxArray> read_idx(const std::string& path) {
  if (auto st = check_regular_file(path); !st) return st;
  GzFile f(gzopen(path.c_str(), "rb"));
  if (!f) return Status::io(path + ": cannot open");
  IdxArray arr;
  if (auto st = read_header(f.get(), path, &arr.dims); !st) {
    const auto zlib = zlib_error(f.get());
    return zlib.empty() ? st : Status::corruption(path + ": corrupt compressed data (" + zlib + ")");
  }
  if (auto st = read_data(f.get(), path, static_cast<size_t>(product(arr.dims)), &arr.data); !st) return st;
  uint8_t extra;
  const int more = gzread(f.get(), &extra, 1);
  if (more < 0) return Status::corruption(path + ": corrupt compressed data (" + zlib_error(f.get()) + ")");
  if (more > 0) return Status::corruption(path + ": trailing bytes after IDX data");
  return arr;
}

Result<TrainTestData> load_mnist_dir(const std::string& dir, const std::string& name,
                                     double mean, double stddev, bool with_test) {
  auto train = load_split(dir, name, "train", mean, stddev);
  if (!train) return train.status();
  if (!with_test) return TrainTestData{name, std::move(train).value(), Dataset{}};
  auto test = load_split(dir, name, "t10k", mean, stddev);
  if (!test) return test.status();
  return TrainTestData{name, std::move(train).value(), std::move(test).value()};
}

}  // namespace xfed
