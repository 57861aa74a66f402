#include "deploy/xdc_file.h"

#include <algorithm>
#include <fstream>

#include "core/file_io.h"
#include "deploy/entropy_coding.h"

namespace xfed::deploy {
namespace {

using compression::CerMatrix;
using compression::CsrMatrix;
using compression::DenseMatrix;

constexpr char kMagic[4] = {'X', 'D', 'C', '1'};
constexpr size_t kHeaderBytes = 4 + 1 + 4;

// Gaps of increasing columns: the first column, then each step minus one.
void put_gaps(const std::vector<uint32_t>& columns, const std::vector<uint32_t>& starts, ByteWriter* w) {
  std::vector<uint32_t> gaps(columns.size());
  for (size_t p = 0; p + 1 < starts.size(); ++p)
    for (uint32_t i = starts[p]; i < starts[p + 1]; ++i) gaps[i] = i == starts[p] ? columns[i] : columns[i] - columns[i - 1] - 1;
  put_symbols(gaps, w);
}

// Sizes (per part) to pointers from 0; false when the total exceeds `limit`.
bool pointers_from_sizes(const std::vector<uint32_t>& sizes, uint64_t limit, std::vector<uint32_t>* starts) {
  limit = std::min<uint64_t>(limit, UINT32_MAX);
  starts->assign(1, 0);
  uint64_t total = 0;
  for (uint32_t s : sizes) {
    total += s;
    if (total > limit) return false;
    starts->push_back(static_cast<uint32_t>(total));
  }
  return true;
}

std::vector<uint32_t> sizes_of(const std::vector<uint32_t>& starts) {
  std::vector<uint32_t> sizes;
  for (size_t p = 0; p + 1 < starts.size(); ++p) sizes.push_back(starts[p + 1] - starts[p]);
  return sizes;
}

// Columns from gaps, within each part of `starts`; an error past `cols`.
Result<std::vector<uint32_t>> columns_from_gaps(ByteReader* r, const std::vector<uint32_t>& starts, int64_t cols,
                                                const std::string& what) {
  auto gaps = get_symbols(r, starts.back(), static_cast<uint64_t>(cols - 1), what);
  if (!gaps) return gaps.status();
  std::vector<uint32_t> columns(std::move(gaps).value());
  for (size_t p = 0; p + 1 < starts.size(); ++p)
    for (uint32_t i = starts[p] + 1; i < starts[p + 1]; ++i) {
      const uint64_t c = uint64_t{columns[i - 1]} + 1 + columns[i];
      if (c >= static_cast<uint64_t>(cols)) return Status::corruption(what + ": a column past " + std::to_string(cols));
      columns[i] = static_cast<uint32_t>(c);
    }
  return columns;
}

void put_matrix(const CompactLayer& l, ByteWriter* w) {
  switch (l.format) {
    case MatrixFormat::kDense: put_values(l.dense.values, w); return;
    case MatrixFormat::kCsr:
      put_symbols(sizes_of(l.csr.row_start), w);
      put_gaps(l.csr.columns, l.csr.row_start, w);
      put_values(l.csr.values, w);
      return;
    case MatrixFormat::kCer:
    case MatrixFormat::kCser:
      w->put_varint(l.cer.codebook.size());
      for (float v : l.cer.codebook) w->put_f32(v);
      put_symbols(sizes_of(l.cer.row_start), w);
      put_symbols(sizes_of(l.cer.segment_start), w);
      put_gaps(l.cer.columns, l.cer.segment_start, w);
      if (l.format == MatrixFormat::kCser) put_symbols(l.cer.value_index, w);
      return;
  }
}

void put_layer(const CompactLayer& l, ByteWriter* w) {
  w->put_string(l.shape.name);
  w->put_u8(static_cast<uint8_t>(l.format));
  put_matrix(l, w);
  put_values(l.bias, w);
}

Result<DenseMatrix> get_dense(ByteReader* r, const LayerShape& s, const std::string& what) {
  auto values = get_values(r, static_cast<size_t>(s.out * s.cols()), what + " weights");
  if (!values) return values.status();
  return DenseMatrix{s.out, s.cols(), std::move(values).value()};
}

Result<CsrMatrix> get_csr(ByteReader* r, const LayerShape& s, const std::string& what) {
  CsrMatrix m;
  m.rows = s.out, m.cols = s.cols();
  auto per_row = get_symbols(r, static_cast<size_t>(s.out), static_cast<uint64_t>(s.cols()), what + " row lengths");
  if (!per_row) return per_row.status();
  if (!pointers_from_sizes(per_row.value(), static_cast<uint64_t>(s.out * s.cols()), &m.row_start))
    return Status::corruption(what + ": more nonzeros than weights");
  auto columns = columns_from_gaps(r, m.row_start, s.cols(), what + " columns");
  if (!columns) return columns.status();
  m.columns = std::move(columns).value();
  auto values = get_values(r, m.columns.size(), what + " values");
  if (!values) return values.status();
  m.values = std::move(values).value();
  return m;
}

Result<CerMatrix> get_cer(ByteReader* r, const LayerShape& s, bool named, const std::string& what) {
  CerMatrix m;
  m.rows = s.out, m.cols = s.cols(), m.named_values = named;
  uint64_t k = 0;
  if (!r->get_varint(&k) || k > r->remaining() / 4) return Status::corruption(what + ": truncated codebook");
  m.codebook.resize(static_cast<size_t>(k));
  for (auto& v : m.codebook)
    if (!r->get_f32(&v)) return Status::corruption(what + ": truncated codebook");
  auto per_row = get_symbols(r, static_cast<size_t>(s.out), k, what + " segments per row");
  if (!per_row) return per_row.status();
  if (!pointers_from_sizes(per_row.value(), static_cast<uint64_t>(s.out) * k, &m.row_start))
    return Status::corruption(what + ": too many segments");
  auto per_segment = get_symbols(r, m.row_start.back(), static_cast<uint64_t>(s.cols()), what + " segment lengths");
  if (!per_segment) return per_segment.status();
  if (!pointers_from_sizes(per_segment.value(), static_cast<uint64_t>(s.out * s.cols()), &m.segment_start))
    return Status::corruption(what + ": more nonzeros than weights");
  auto columns = columns_from_gaps(r, m.segment_start, s.cols(), what + " columns");
  if (!columns) return columns.status();
  m.columns = std::move(columns).value();
  if (named) {
    auto index = get_symbols(r, m.row_start.back(), k == 0 ? 0 : k - 1, what + " value indices");
    if (!index) return index.status();
    m.value_index = std::move(index).value();
  }
  return m;
}

Status get_matrix(ByteReader* r, CompactLayer* l, const std::string& what) {
  switch (l->format) {
    case MatrixFormat::kDense: {
      auto m = get_dense(r, l->shape, what);
      if (!m) return m.status();
      l->dense = std::move(m).value();
      return Status::ok();
    }
    case MatrixFormat::kCsr: {
      auto m = get_csr(r, l->shape, what);
      if (!m) return m.status();
      l->csr = std::move(m).value();
      return Status::ok();
    }
    case MatrixFormat::kCer:
    case MatrixFormat::kCser: {
      auto m = get_cer(r, l->shape, l->format == MatrixFormat::kCser, what);
      if (!m) return m.status();
      l->cer = std::move(m).value();
      return Status::ok();
    }
  }
  return Status::corruption(what + ": unknown format");
}

Result<CompactLayer> get_layer(ByteReader* r, const LayerShape& shape) {
  CompactLayer l;
  l.shape = shape;
  const std::string what = "layer " + shape.name;
  std::string name;
  uint8_t format = 0;
  if (!r->get_string(&name, 256) || !r->get_u8(&format)) return Status::corruption(what + ": truncated");
  if (name != shape.name) return Status::corruption("layer '" + name + "' where the spec has " + shape.name);
  if (format < 1 || format > 4) return Status::corruption(what + ": unknown format " + std::to_string(format));
  l.format = static_cast<MatrixFormat>(format);
  if (auto st = get_matrix(r, &l, what); !st) return st;
  auto bias = get_values(r, static_cast<size_t>(shape.out), what + " bias");
  if (!bias) return bias.status();
  l.bias = std::move(bias).value();
  if (auto st = check_layer(l); !st) return st;
  return l;
}

Result<CompactModel> decode_body(ByteReader* r) {
  std::string spec_json;
  if (!r->get_string(&spec_json)) return Status::corruption("truncated model spec");
  auto spec = ModelSpec::from_json(spec_json);
  if (!spec) return spec.status();
  auto chain = compact_chain(spec.value());
  if (!chain) return chain.status();
  uint64_t layers = 0;
  if (!r->get_varint(&layers)) return Status::corruption("truncated layer count");
  if (layers != chain.value().size())
    return Status::corruption(std::to_string(layers) + " layers where the spec has " + std::to_string(chain.value().size()));
  CompactModel model;
  model.spec = std::move(spec).value();
  for (const auto& shape : chain.value()) {
    auto layer = get_layer(r, shape);
    if (!layer) return layer.status();
    model.layers.push_back(std::move(layer).value());
  }
  if (!r->done()) return Status::corruption(std::to_string(r->remaining()) + " bytes after the last layer");
  return model;
}

}  // namespace

Bytes encode_xdc(const CompactModel& model) {
  Bytes body;
  ByteWriter b(&body);
  b.put_string(model.spec.to_json());
  b.put_varint(model.layers.size());
  for (const auto& l : model.layers) put_layer(l, &b);
  Bytes out;
  ByteWriter w(&out);
  w.put_bytes(kMagic, sizeof kMagic);
  w.put_u8(kXdcVersion);
  w.put_u32(crc32_of(body.data(), body.size()));
  w.put_bytes(body.data(), body.size());
  return out;
}

size_t layer_file_bytes(const CompactLayer& layer) {
  Bytes b;
  ByteWriter w(&b);
  put_layer(layer, &w);
  return b.size();
}

bool looks_like_xdc(const Bytes& head) { return head.size() >= 4 && std::equal(kMagic, kMagic + 4, head.begin()); }

Result<CompactModel> decode_xdc(const Bytes& bytes, const std::string& path) {
  if (!looks_like_xdc(bytes)) return Status::corruption(path + ": not an .xdc file (no XDC1 magic)");
  if (bytes.size() < kHeaderBytes) return Status::corruption(path + ": truncated header");
  ByteReader r(bytes);
  uint8_t version = 0;
  uint32_t crc = 0;
  (void)r.take(4);
  if (!r.get_u8(&version) || !r.get_u32(&crc)) return Status::corruption(path + ": truncated header");
  if (version != kXdcVersion)
    return Status::corruption(path + ": .xdc version " + std::to_string(version) + " (this xfed reads version 1)");
  if (crc32_of(bytes.data() + kHeaderBytes, bytes.size() - kHeaderBytes) != crc)
    return Status::corruption(path + ": checksum mismatch (a damaged file)");
  auto model = decode_body(&r);
  if (!model) return model.status().prefixed(path);
  return model;
}

Result<CompactModel> read_xdc_file(const std::string& path) {
  auto bytes = read_file_bytes(path, kMaxXdcBytes);
  if (!bytes) return bytes.status();
  return decode_xdc(bytes.value(), path);
}

bool is_xdc_file(const std::string& path) {
  char head[4] = {};
  std::ifstream in(path, std::ios::binary);
  return in.read(head, sizeof head) && looks_like_xdc(Bytes(head, head + 4));
}

}  // namespace xfed::deploy
