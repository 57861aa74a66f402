// Codec throughput: encode + decode of one 10M-float tensor with topk:0.01,uniform:8 on one
// core, each stage's share of the time, and the same pipeline with the selection done by
// torch::topk (+ sort of the indices) instead of xfed's O(n) selection.
// Usage: build/bin/bench_codec [--n N] [--reps R]
#include <ATen/ATen.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <string>

#include "compression/index_coding.h"
#include "compression/pipeline.h"
#include "compression/quantize.h"
#include "compression/sparsify.h"

using namespace xfed;
using namespace xfed::compression;
using Clock = std::chrono::steady_clock;

namespace {

double seconds(const std::function<void()>& fn, int reps) {
  fn();  // warm-up
  const auto t = Clock::now();
  for (int i = 0; i < reps; ++i) fn();
  return std::chrono::duration<double>(Clock::now() - t).count() / reps;
}

std::vector<uint32_t> torch_topk_indices(const at::Tensor& x, size_t k) {
  auto idx = std::get<1>(at::topk(x.abs(), static_cast<int64_t>(k), 0, true, false));
  idx = std::get<0>(idx.sort()).to(at::kInt);
  const auto* p = idx.data_ptr<int32_t>();
  return std::vector<uint32_t>(p, p + idx.numel());
}

}  // namespace

int main(int argc, char** argv) {
  size_t n = 10'000'000;
  int reps = 5;
  for (int i = 1; i + 1 < argc; ++i) {
    if (!std::strcmp(argv[i], "--n")) n = std::stoul(argv[++i]);
    if (!std::strcmp(argv[i], "--reps")) reps = std::atoi(argv[++i]);
  }
  at::set_num_threads(1);
  at::manual_seed(1);
  const auto x = at::randn({static_cast<int64_t>(n)});
  const float* xp = x.data_ptr<float>();
  const auto pipeline = Pipeline::parse("topk:0.01,uniform:8").value_or_throw();
  const size_t k = k_for_ratio(n, 0.01);
  const ValueParams vp{ValueCodec::kUniform, 8, 512};
  const double mb = static_cast<double>(n) * 4 / 1e9;

  Bytes encoded;
  std::vector<float> out(n);
  const double t_encode = seconds([&] { encoded.clear(); (void)pipeline.encode_tensor(xp, n, 1, &encoded, nullptr); }, reps);
  const double t_decode = seconds([&] { ByteReader r(encoded); (void)pipeline.decode_tensor(r, n, out.data()); }, reps);

  // Stage by stage, the same work the pipeline does.
  std::map<std::string, double> stage;
  std::vector<uint32_t> idx;
  std::vector<float> vals(k), vals_out(k);
  Bytes ib, vb;
  stage["encode: finite check"] = seconds([&] {
    const auto* u = reinterpret_cast<const uint32_t*>(xp);
    uint32_t bad = 0;
    for (size_t i = 0; i < n; ++i) bad |= (u[i] & 0x7f800000u) == 0x7f800000u;
    if (bad) std::abort();
  }, reps);
  stage["encode: top-k selection"] = seconds([&] { idx = topk_indices(xp, n, k); }, reps);
  stage["encode: index coding"] = seconds([&] { ib.clear(); encode_indices(idx, n, &ib); }, reps);
  stage["encode: gather + quantize"] = seconds([&] {
    for (size_t j = 0; j < k; ++j) vals[j] = xp[idx[j]];
    vb.clear();
    encode_values(vp, vals.data(), k, 1, &vb, nullptr);
  }, reps);
  std::vector<uint32_t> idx2;
  stage["decode: index decoding"] = seconds([&] { ByteReader r(ib); (void)decode_indices(r, k, n, &idx2); }, reps);
  stage["decode: dequantize"] = seconds([&] { ByteReader r(vb); (void)decode_values(vp, r, k, vals_out.data()); }, reps);
  stage["decode: zero + scatter"] = seconds([&] {
    std::fill(out.begin(), out.end(), 0.0f);
    for (size_t j = 0; j < k; ++j) out[idx2[j]] = vals_out[j];
  }, reps);
  const double t_torch_select = seconds([&] { idx = torch_topk_indices(x, k); }, std::max(1, reps / 2));
  double stage_total = 0;
  for (const auto& [name, t] : stage) stage_total += t;
  const double torch_total = t_encode + t_decode - stage["encode: top-k selection"] + t_torch_select;

  std::printf("codec: %zu floats (%.0f MB), topk:0.01 (k = %zu), uniform:8, one core, %d reps\n\n",
              n, mb * 1e3, k, reps);
  std::printf("| %-34s | %10s | %10s |\n", "", "ms", "GB/s in");
  std::printf("|------------------------------------|------------|------------|\n");
  std::printf("| %-34s | %10.2f | %10.2f |\n", "xfed encode", 1e3 * t_encode, mb / t_encode);
  std::printf("| %-34s | %10.2f | %10.2f |\n", "xfed decode", 1e3 * t_decode, mb / t_decode);
  std::printf("| %-34s | %10.2f | %10.2f |\n", "xfed encode + decode (goal >= 1)", 1e3 * (t_encode + t_decode), mb / (t_encode + t_decode));
  std::printf("| %-34s | %10.2f | %10.2f |\n", "torch::topk-based encode + decode", 1e3 * torch_total, mb / torch_total);
  std::printf("\nspeed-up over torch::topk-based: %.1fx (goal >= 3)\n\n", torch_total / (t_encode + t_decode));
  std::printf("| %-34s | %10s | %7s |\n", "stage", "ms", "share");
  std::printf("|------------------------------------|------------|---------|\n");
  for (const auto& [name, t] : stage)
    std::printf("| %-34s | %10.2f | %6.1f%% |\n", name.c_str(), 1e3 * t, 100 * t / stage_total);
  std::printf("| %-34s | %10.2f |         |\n", "torch::topk + index sort (for ref.)", 1e3 * t_torch_select);
  std::printf("\nencoded size: %zu bytes (%.1fx smaller than fp32)\n", encoded.size(), 4.0 * n / encoded.size());
  return 0;
}
