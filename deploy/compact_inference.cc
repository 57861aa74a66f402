#include "deploy/compact_inference.h"

#include <algorithm>

namespace xfed::deploy {
namespace {

using compression::Operations;

// Activations feature-major: value (feature f, sample b) at f * batch + b; a convolution's
// maps channel-major: (channel c, sample b, y, x) at ((c * batch + b) * h + y) * w + x.
struct Maps {
  int64_t channels = 0, batch = 0, h = 0, w = 0;
  std::vector<float> v;
};

Result<std::vector<float>> product(const CompactLayer& l, const std::vector<float>& x, int64_t n) {
  switch (l.format) {
    case MatrixFormat::kDense: return compression::multiply_columns(l.dense, x, n);
    case MatrixFormat::kCsr: return compression::multiply_columns(l.csr, x, n);
    case MatrixFormat::kCer:
    case MatrixFormat::kCser: return compression::multiply_columns(l.cer, x, n);
  }
  return Status::usage("unknown format");
}

// y = W x + b for n columns, then ReLU unless it is the last layer.
Result<std::vector<float>> layer_forward(const CompactLayer& l, const std::vector<float>& x, int64_t n, bool relu) {
  auto y = product(l, x, n);
  if (!y) return y.status().prefixed("layer " + l.shape.name);
  auto& v = y.value();
  for (int64_t r = 0; r < l.shape.out; ++r)
    for (int64_t j = 0; j < n; ++j) {
      float& o = v[static_cast<size_t>(r * n + j)];
      o += l.bias[r];
      if (relu) o = std::max(o, 0.0f);
    }
  return y;
}

// The k x k patches of valid positions as columns: row (c, ky, kx) (as LibTorch's weight
// layout), column (b, y, x).
std::vector<float> im2col(const Maps& m, int64_t k) {
  const int64_t oh = m.h - k + 1, ow = m.w - k + 1, n = m.batch * oh * ow;
  std::vector<float> cols(static_cast<size_t>(m.channels * k * k * n));
  float* out = cols.data();
  for (int64_t c = 0; c < m.channels; ++c)
    for (int64_t ky = 0; ky < k; ++ky)
      for (int64_t kx = 0; kx < k; ++kx)
        for (int64_t b = 0; b < m.batch; ++b) {
          const float* in = m.v.data() + (c * m.batch + b) * m.h * m.w;
          for (int64_t y = 0; y < oh; ++y)
            for (int64_t x = 0; x < ow; ++x) *out++ = in[(y + ky) * m.w + x + kx];
        }
  return cols;
}

Result<Maps> conv_relu(const CompactLayer& l, const Maps& in) {
  const int64_t k = l.shape.kernel, oh = in.h - k + 1, ow = in.w - k + 1;
  auto y = layer_forward(l, im2col(in, k), in.batch * oh * ow, true);
  if (!y) return y.status();
  return Maps{l.shape.out, in.batch, oh, ow, std::move(y).value()};
}

Maps max_pool2(const Maps& m) {
  Maps p{m.channels, m.batch, m.h / 2, m.w / 2, {}};
  p.v.resize(static_cast<size_t>(p.channels * p.batch * p.h * p.w));
  float* out = p.v.data();
  for (int64_t cb = 0; cb < m.channels * m.batch; ++cb) {
    const float* in = m.v.data() + cb * m.h * m.w;
    for (int64_t y = 0; y < p.h; ++y)
      for (int64_t x = 0; x < p.w; ++x) {
        const float* q = in + 2 * y * m.w + 2 * x;
        *out++ = std::max(std::max(q[0], q[1]), std::max(q[m.w], q[m.w + 1]));
      }
  }
  return p;
}

// Channel-major maps to feature-major columns: feature (c, y, x) as LibTorch's flatten.
std::vector<float> flatten(const Maps& m) {
  const int64_t hw = m.h * m.w;
  std::vector<float> f(m.v.size());
  for (int64_t c = 0; c < m.channels; ++c)
    for (int64_t b = 0; b < m.batch; ++b)
      for (int64_t i = 0; i < hw; ++i) f[static_cast<size_t>((c * hw + i) * m.batch + b)] = m.v[static_cast<size_t>((c * m.batch + b) * hw + i)];
  return f;
}

// Sample-major images to feature-major columns, keeping only the spec's input_kept pixels.
std::vector<float> input_columns(const ModelSpec& s, const std::vector<float>& images, int64_t batch) {
  const int64_t all = s.in_channels * s.height * s.width;
  std::vector<int64_t> kept(s.input_kept);
  if (kept.empty())
    for (int64_t i = 0; i < all; ++i) kept.push_back(i);
  std::vector<float> x(kept.size() * static_cast<size_t>(batch));
  for (size_t f = 0; f < kept.size(); ++f)
    for (int64_t b = 0; b < batch; ++b) x[f * batch + b] = images[static_cast<size_t>(b * all + kept[f])];
  return x;
}

Maps input_maps(const ModelSpec& s, const std::vector<float>& images, int64_t batch) {
  Maps m{s.in_channels, batch, s.height, s.width, std::vector<float>(images.size())};
  const int64_t hw = s.height * s.width;
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t c = 0; c < s.in_channels; ++c)
      std::copy_n(images.data() + (b * s.in_channels + c) * hw, hw, m.v.data() + (c * batch + b) * hw);
  return m;
}

Result<std::vector<float>> dense_chain(const CompactModel& model, std::vector<float> x, size_t first, int64_t batch) {
  for (size_t i = first; i < model.layers.size(); ++i) {
    auto y = layer_forward(model.layers[i], x, batch, i + 1 < model.layers.size());
    if (!y) return y.status();
    x = std::move(y).value();
  }
  return x;
}

Result<std::vector<float>> lenet5_features(const CompactModel& model, const std::vector<float>& images, int64_t batch) {
  Maps m = input_maps(model.spec, images, batch);
  for (size_t i = 0; i < 2; ++i) {
    auto c = conv_relu(model.layers[i], m);
    if (!c) return c.status();
    m = max_pool2(c.value());
  }
  return flatten(m);
}

// Feature-major logits to sample-major.
std::vector<float> by_sample(const std::vector<float>& logits, int64_t classes, int64_t batch) {
  std::vector<float> out(logits.size());
  for (int64_t c = 0; c < classes; ++c)
    for (int64_t b = 0; b < batch; ++b) out[static_cast<size_t>(b * classes + c)] = logits[static_cast<size_t>(c * batch + b)];
  return out;
}

}  // namespace

Result<std::vector<float>> compact_logits(const CompactModel& model, const std::vector<float>& images, int64_t batch) {
  const auto& s = model.spec;
  if (batch < 1 || images.size() != static_cast<size_t>(batch * s.in_channels * s.height * s.width))
    return Status::usage("compact model: " + std::to_string(images.size()) + " input values for " +
                         std::to_string(batch) + " samples of " + std::to_string(s.in_channels) + "x" +
                         std::to_string(s.height) + "x" + std::to_string(s.width));
  const bool conv = s.arch == "lenet5";
  auto features = conv ? lenet5_features(model, images, batch) : Result<std::vector<float>>(input_columns(s, images, batch));
  if (!features) return features.status();
  auto logits = dense_chain(model, std::move(features).value(), conv ? 2 : 0, batch);
  if (!logits) return logits.status();
  return by_sample(logits.value(), s.classes, batch);
}

Operations model_operations(const CompactModel& model) {
  Operations total;
  for (const auto& l : model.layers) {
    const auto ops = layer_operations(l);
    total.multiplications += ops.multiplications;
    total.additions += ops.additions;
  }
  return total;
}

}  // namespace xfed::deploy
