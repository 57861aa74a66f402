#include "core/models/relu_max_pool.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

namespace xfed {
namespace {

// Which of a window's 4 positions (row-major) an output came from; kNoGradient where
// ReLU's backward stops the gradient (the window's largest value is not positive).
constexpr uint8_t kNoGradient = 0xff;

// A channels-last map's addressing: element (n, c, h, w) at n·n_ + h·h_ + w·w_ + c.
struct NhwcView {
  int64_t batch, channels, height, width, n_, h_, w_;
  explicit NhwcView(const at::Tensor& t)
      : batch(t.size(0)), channels(t.size(1)), height(t.size(2)), width(t.size(3)),
        n_(t.stride(0)), h_(t.stride(2)), w_(t.stride(3)) {}
  int64_t at(int64_t n, int64_t h, int64_t w) const { return n * n_ + h * h_ + w * w_; }
};

bool fusable(const at::Tensor& x) {
  return x.dim() == 4 && x.scalar_type() == at::kFloat && x.device().is_cpu() && x.size(2) >= 2 &&
         x.size(3) >= 2 && x.is_contiguous(at::MemoryFormat::ChannelsLast) &&
         (x.size(1) == 1 || x.stride(1) == 1);
}

at::Tensor empty_nhwc(const at::Tensor& like, int64_t height, int64_t width) {
  return at::empty({like.size(0), like.size(1), height, width},
                   like.options().memory_format(at::MemoryFormat::ChannelsLast));
}

// LibTorch's order is ReLU, then the first largest of the window in row-major order, a NaN
// taking the place of anything before it (ReLU keeps NaN and makes -0 +0). The window's raw
// maximum picked the same way and then ReLU'd is the same value from the same position
// wherever it is positive or NaN, the only places a gradient passes. Four channels at once
// in the compiler's portable vectors (SSE on x86-64, NEON on ARM): a branch per element
// mispredicts on activations and made the scalar loop slower than LibTorch's three passes.
typedef float Floats __attribute__((vector_size(16)));
typedef int32_t Ints __attribute__((vector_size(16)));
constexpr int64_t kLanes = 4;

inline Floats load(const float* p) { Floats v; std::memcpy(&v, p, sizeof v); return v; }
inline void store(float* p, Floats v) { std::memcpy(p, &v, sizeof v); }
inline Floats pick(Ints mask, Floats yes, Floats no) {
  return reinterpret_cast<Floats>((reinterpret_cast<Ints>(yes) & mask) | (reinterpret_cast<Ints>(no) & ~mask));
}

// Lanes [k, k + 4) of a window (k + 4 <= channels).
inline void pool_lanes(const float* const at[4], int64_t k, float* out, uint8_t* which) {
  Floats best = load(at[0] + k);
  Ints index = {0, 0, 0, 0};
  for (int32_t p = 1; p < 4; ++p) {
    const Floats v = load(at[p] + k);
    const Ints take = (v > best) | (v != v);
    best = pick(take, v, best);
    index = (index & ~take) | (Ints{p, p, p, p} & take);
  }
  const Ints passes = (best > Floats{0, 0, 0, 0}) | (best != best);
  store(out + k, pick(passes, best, Floats{0, 0, 0, 0}));
  if (!which) return;
  const Ints w = (index & passes) | (Ints{kNoGradient, kNoGradient, kNoGradient, kNoGradient} & ~passes);
  for (int64_t l = 0; l < kLanes; ++l) which[k + l] = static_cast<uint8_t>(w[l]);
}

inline void pool_one(const float* const at[4], int64_t k, float* out, uint8_t* which) {
  float best = at[0][k];
  uint8_t index = 0;
  for (uint8_t p = 1; p < 4; ++p)
    if (at[p][k] > best || at[p][k] != at[p][k]) best = at[p][k], index = p;
  const bool passes = best > 0.f || best != best;
  out[k] = passes ? best : 0.f;
  if (which) which[k] = passes ? index : kNoGradient;
}

void pool_window(const float* const at[4], int64_t channels, float* out, uint8_t* which) {
  int64_t k = 0;
  for (; k + kLanes <= channels; k += kLanes) pool_lanes(at, k, out, which);
  for (; k < channels; ++k) pool_one(at, k, out, which);
}

// A window's gradient: position p of channel k gets g[k] where which[k] == p, else 0.
void unpool_window(float* const at[4], int64_t channels, const float* g, const uint8_t* which) {
  int64_t k = 0;
  for (; k + kLanes <= channels; k += kLanes) {
    const Ints w = {which[k], which[k + 1], which[k + 2], which[k + 3]};
    const Floats gk = load(g + k);
    for (int32_t p = 0; p < 4; ++p) store(at[p] + k, pick(w == Ints{p, p, p, p}, gk, Floats{0, 0, 0, 0}));
  }
  for (; k < channels; ++k)
    for (uint8_t p = 0; p < 4; ++p) at[p][k] = which[k] == p ? g[k] : 0.f;
}

// Calls visit(corner, pooled, which) for every 2x2 window of `map`, batch-parallel: the
// offsets of its top-left element in `map`, of its output in `pooled`, and of its channels'
// row in the positions array (contiguous N·OH·OW·C).
template <typename Visit>
void for_each_window(const NhwcView& map, const NhwcView& pooled, Visit visit) {
  const int64_t oh = pooled.height, ow = pooled.width;
  at::parallel_for(0, map.batch, 1, [&](int64_t begin, int64_t end) {
    for (int64_t n = begin; n < end; ++n)
      for (int64_t y = 0; y < oh; ++y)
        for (int64_t x = 0; x < ow; ++x)
          visit(map.at(n, 2 * y, 2 * x), pooled.at(n, y, x), ((n * oh + y) * ow + x) * map.channels);
  });
}

// The pooled map, and (when `which` is defined: uint8, the output's shape, contiguous
// N·OH·OW·C) each output's source position.
at::Tensor pool_forward(const at::Tensor& x, const at::Tensor& which) {
  const NhwcView in(x);
  at::Tensor out = empty_nhwc(x, in.height / 2, in.width / 2);
  const float* src = x.data_ptr<float>();
  float* dst = out.data_ptr<float>();
  uint8_t* idx = which.defined() ? which.data_ptr<uint8_t>() : nullptr;
  for_each_window(in, NhwcView(out), [&](int64_t corner, int64_t pooled, int64_t row) {
    const float* c = src + corner;
    const float* const window[4] = {c, c + in.w_, c + in.h_, c + in.h_ + in.w_};
    pool_window(window, in.channels, dst + pooled, idx ? idx + row : nullptr);
  });
  return out;
}

// The gradient of the input: each output's gradient at its source position, zero elsewhere
// (rows and columns that no window covers, when the map's height or width is odd, too).
at::Tensor pool_backward(const at::Tensor& grad_out, const at::Tensor& which, at::IntArrayRef sizes) {
  const at::Tensor g = grad_out.contiguous(at::MemoryFormat::ChannelsLast);
  at::Tensor grad_in = at::empty(sizes, g.options().memory_format(at::MemoryFormat::ChannelsLast));
  if (sizes[2] % 2 != 0 || sizes[3] % 2 != 0) grad_in.zero_();  // (at::zeros ignores the memory format)
  const NhwcView in(grad_in);
  const float* src = g.data_ptr<float>();
  const uint8_t* idx = which.data_ptr<uint8_t>();
  float* dst = grad_in.data_ptr<float>();
  for_each_window(in, NhwcView(g), [&](int64_t corner, int64_t pooled, int64_t row) {
    float* c = dst + corner;
    float* const window[4] = {c, c + in.w_, c + in.h_, c + in.h_ + in.w_};
    unpool_window(window, in.channels, src + pooled, idx + row);
  });
  return grad_in;
}

struct ReluMaxPool2 : torch::autograd::Function<ReluMaxPool2> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x) {
    at::Tensor which = at::empty({x.size(0), x.size(2) / 2, x.size(3) / 2, x.size(1)},
                                 x.options().dtype(at::kByte));
    ctx->saved_data["which"] = which;
    ctx->saved_data["sizes"] = x.sizes().vec();
    return pool_forward(x, which);
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto sizes = ctx->saved_data["sizes"].toIntVector();
    return {pool_backward(grads[0], ctx->saved_data["which"].toTensor(), sizes)};
  }
};

}  // namespace

at::Tensor relu_max_pool2(at::Tensor x, std::vector<at::Tensor>* taps) {
  if (taps || !fusable(x)) {
    x.relu_();
    if (taps) taps->push_back(x);
    return at::max_pool2d(x, 2);
  }
  if (x.requires_grad() && at::GradMode::is_enabled()) return ReluMaxPool2::apply(x);
  return pool_forward(x, at::Tensor());
}

}  // namespace xfed
