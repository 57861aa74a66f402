#include "deploy/export_compact.h"

#include <cmath>
#include <map>

#include "compression/huffman.h"
#include "compression/kmeans.h"
#include "deploy/xdc_file.h"

namespace xfed::deploy {
namespace {

using compression::DenseMatrix;

Result<std::vector<float>> tensor(const NamedArrays& state, const std::string& name, size_t size) {
  const auto it = state.find(name);
  if (it == state.end()) return Status::usage("the model has no tensor " + name);
  if (it->second.size() != size)
    return Status::usage(name + " has " + std::to_string(it->second.size()) + " values, expected " + std::to_string(size));
  for (float v : it->second)
    if (!std::isfinite(v)) return Status::usage(name + " holds a value that is not finite");
  return it->second;
}

// Nonzero weights clustered to 2^bits shared values (fewer distinct values: kept as they are).
Result<std::vector<float>> shared(std::vector<float> w, int bits, const std::string& name) {
  if (bits == 0) return w;
  std::vector<float> nonzero;
  for (float v : w)
    if (v != 0.0f) nonzero.push_back(v);
  const size_t k = size_t{1} << bits;
  std::map<float, int> distinct;
  for (float v : nonzero) {
    distinct[v] = 1;
    if (distinct.size() > k) break;
  }
  if (distinct.size() <= k) return w;
  auto clusters = compression::share_weights(nonzero, static_cast<int>(k));
  if (!clusters) return clusters.status().prefixed(name);
  const auto values = compression::expand_shared(clusters.value());
  size_t i = 0;
  for (float& v : w)
    if (v != 0.0f) v = values[i++];
  return w;
}

CompactLayer smallest(const LayerShape& shape, const DenseMatrix& weights, const std::vector<float>& bias) {
  CompactLayer best;
  size_t best_bytes = SIZE_MAX;
  for (MatrixFormat f : kAllFormats) {
    auto layer = make_layer(shape, f, weights, bias);
    const size_t bytes = layer_file_bytes(layer);
    if (bytes < best_bytes) best = std::move(layer), best_bytes = bytes;
  }
  return best;
}

}  // namespace

Result<CompactModel> build_compact(const ModelSpec& spec, const NamedArrays& state, const ExportOptions& options) {
  if (options.bits < 0 || options.bits > 16) return Status::usage("bits must be in 0..16");
  auto chain = compact_chain(spec);
  if (!chain) return chain.status();
  CompactModel model;
  model.spec = spec;
  for (const auto& shape : chain.value()) {
    auto w = tensor(state, shape.name + ".weight", static_cast<size_t>(shape.out * shape.cols()));
    auto b = tensor(state, shape.name + ".bias", static_cast<size_t>(shape.out));
    if (!w) return w.status();
    if (!b) return b.status();
    auto values = shared(std::move(w).value(), options.bits, shape.name);
    if (!values) return values.status();
    const DenseMatrix weights{shape.out, shape.cols(), std::move(values).value()};
    model.layers.push_back(options.format ? make_layer(shape, *options.format, weights, b.value())
                                          : smallest(shape, weights, b.value()));
  }
  return model;
}

Result<std::optional<MatrixFormat>> parse_format(const std::string& text) {
  if (text == "auto") return std::optional<MatrixFormat>{};
  for (MatrixFormat f : kAllFormats)
    if (text == format_name(f)) return std::optional<MatrixFormat>{f};
  return Status::usage("--format " + text + ": expected auto, dense, csr, cer or cser");
}

LayerSummary summarize(const CompactLayer& l) {
  LayerSummary s;
  s.name = l.shape.name;
  s.format = format_name(l.format);
  s.rows = l.shape.out;
  s.cols = l.shape.cols();
  s.bytes = layer_file_bytes(l);
  const DenseMatrix d = dense_weights(l);
  std::map<float, uint64_t> counts;
  for (float v : d.values) ++counts[v];
  std::vector<uint64_t> c;
  for (const auto& [v, n] : counts) c.push_back(n);
  s.nonzero = static_cast<int64_t>(d.values.size() - (counts.count(0.0f) ? counts.at(0.0f) : 0));
  s.distinct = static_cast<int64_t>(counts.size());
  s.entropy_bits = compression::entropy_bits(c);
  s.ops = layer_operations(l);
  s.csr_multiplications = compression::operations(compression::to_csr(d)).multiplications * l.shape.positions;
  return s;
}

}  // namespace xfed::deploy
