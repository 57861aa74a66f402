#include "deploy/compact_model.h"

#include <cmath>

namespace xfed::deploy {
namespace {

using compression::CerMatrix;
using compression::DenseMatrix;
using compression::Operations;

LayerShape linear(std::string name, int64_t in, int64_t out) { return {std::move(name), LayerKind::kLinear, out, in}; }

LayerShape conv(std::string name, int64_t in, int64_t out, int64_t kernel, int64_t oh, int64_t ow) {
  return {std::move(name), LayerKind::kConv, out, in, kernel, oh * ow};
}

std::vector<LayerShape> mlp_chain(const ModelSpec& s) {
  int64_t in = s.input_kept.empty() ? s.in_channels * s.height * s.width : static_cast<int64_t>(s.input_kept.size());
  std::vector<LayerShape> chain;
  for (size_t i = 0; i <= s.widths.size(); ++i) {
    const int64_t out = i < s.widths.size() ? s.widths[i] : s.classes;
    chain.push_back(linear("layers." + std::to_string(i), in, out));
    in = out;
  }
  return chain;
}

// As core/models/lenet5.h: conv 5x5 - pool 2 - conv 5x5 - pool 2 - fc - fc.
std::vector<LayerShape> lenet5_chain(const ModelSpec& s) {
  const auto& w = s.widths;
  const int64_t h1 = s.height - 4, w1 = s.width - 4, h2 = h1 / 2 - 4, w2 = w1 / 2 - 4;
  return {conv("conv1", s.in_channels, w[0], 5, h1, w1), conv("conv2", w[0], w[1], 5, h2, w2),
          linear("fc1", w[1] * (h2 / 2) * (w2 / 2), w[2]), linear("fc2", w[2], s.classes)};
}

Status bad(const CompactLayer& l, const std::string& what) { return Status::corruption("layer " + l.shape.name + ": " + what); }

bool all_finite(const std::vector<float>& v) {
  for (float x : v)
    if (!std::isfinite(x)) return false;
  return true;
}

}  // namespace

const char* format_name(MatrixFormat f) {
  switch (f) {
    case MatrixFormat::kDense: return "dense";
    case MatrixFormat::kCsr: return "csr";
    case MatrixFormat::kCer: return "cer";
    case MatrixFormat::kCser: return "cser";
  }
  return "unknown";
}

Result<std::vector<LayerShape>> compact_chain(const ModelSpec& spec) {
  std::vector<LayerShape> chain;
  if (spec.arch == "mlp") {
    chain = mlp_chain(spec);
  } else if (spec.arch == "lenet5" && spec.widths.size() == 3 && spec.height >= 16 && spec.width >= 16) {
    chain = lenet5_chain(spec);
  } else {
    return Status::usage("a compact model computes mlp and lenet5 models; this one is " + spec.arch);
  }
  for (const auto& l : chain)
    if (l.out < 1 || l.cols() < 1 || l.positions < 1 || l.out > UINT32_MAX / l.cols())
      return Status::usage("layer " + l.name + ": " + std::to_string(l.out) + " x " + std::to_string(l.cols()) +
                           " weights do not fit a compact layer (1 to 2^32)");
  return chain;
}

CompactLayer make_layer(const LayerShape& shape, MatrixFormat format, const DenseMatrix& weights,
                        std::vector<float> bias) {
  CompactLayer l;
  l.shape = shape;
  l.format = format;
  l.bias = std::move(bias);
  switch (format) {
    case MatrixFormat::kDense: l.dense = weights; break;
    case MatrixFormat::kCsr: l.csr = compression::to_csr(weights); break;
    case MatrixFormat::kCer: l.cer = compression::to_cer(weights); break;
    case MatrixFormat::kCser: l.cer = compression::to_cser(weights); break;
  }
  return l;
}

DenseMatrix dense_weights(const CompactLayer& l) {
  if (l.format == MatrixFormat::kDense) return l.dense;
  DenseMatrix d{l.shape.out, l.shape.cols(), std::vector<float>(static_cast<size_t>(l.shape.out * l.shape.cols()), 0.0f)};
  const auto put = [&](int64_t r, uint32_t c, float v) { d.values[static_cast<size_t>(r * d.cols + c)] = v; };
  if (l.format == MatrixFormat::kCsr) {
    for (int64_t r = 0; r < l.csr.rows; ++r)
      for (uint32_t i = l.csr.row_start[r]; i < l.csr.row_start[r + 1]; ++i) put(r, l.csr.columns[i], l.csr.values[i]);
    return d;
  }
  const CerMatrix& m = l.cer;
  for (int64_t r = 0; r < m.rows; ++r)
    for (uint32_t s = m.row_start[r]; s < m.row_start[r + 1]; ++s) {
      const uint32_t k = m.named_values ? m.value_index[s] : s - m.row_start[r];
      for (uint32_t i = m.segment_start[s]; i < m.segment_start[s + 1]; ++i) put(r, m.columns[i], m.codebook[k]);
    }
  return d;
}

Operations layer_operations(const CompactLayer& l) {
  Operations per_position;
  switch (l.format) {
    case MatrixFormat::kDense: per_position = compression::operations(l.dense); break;
    case MatrixFormat::kCsr: per_position = compression::operations(l.csr); break;
    case MatrixFormat::kCer:
    case MatrixFormat::kCser: per_position = compression::operations(l.cer); break;
  }
  const int64_t p = l.shape.positions;
  return {per_position.multiplications * p, (per_position.additions + l.shape.out) * p};
}

Status check_layer(const CompactLayer& l) {
  const int64_t rows = l.shape.out, cols = l.shape.cols();
  if (static_cast<int64_t>(l.bias.size()) != rows) return bad(l, "a bias of " + std::to_string(l.bias.size()) + " values");
  if (!all_finite(l.bias)) return bad(l, "a bias that is not finite");
  Status st;
  int64_t r = 0, c = 0;
  switch (l.format) {
    case MatrixFormat::kDense:
      r = l.dense.rows, c = l.dense.cols;
      if (static_cast<int64_t>(l.dense.values.size()) != rows * cols) return bad(l, "dense: a wrong number of values");
      if (!all_finite(l.dense.values)) return bad(l, "a weight that is not finite");
      break;
    case MatrixFormat::kCsr:
      r = l.csr.rows, c = l.csr.cols, st = compression::check(l.csr);
      if (st && !all_finite(l.csr.values)) return bad(l, "a weight that is not finite");
      break;
    case MatrixFormat::kCer:
    case MatrixFormat::kCser:
      r = l.cer.rows, c = l.cer.cols, st = compression::check(l.cer);
      if (st && l.cer.named_values != (l.format == MatrixFormat::kCser)) return bad(l, "CER and CSER confused");
      break;
  }
  if (!st) return bad(l, st.message());
  if (r != rows || c != cols)
    return bad(l, std::to_string(r) + " x " + std::to_string(c) + " weights, expected " + std::to_string(rows) + " x " +
                      std::to_string(cols));
  return Status::ok();
}

}  // namespace xfed::deploy
