// The float32 FLOP peak of this machine's cores, measured rather than taken from a clock the
// machine may not report: each thread runs independent chains of fused multiply-adds on
// the widest vectors the CPU has (AVX-512, else AVX2 with FMA), more chains than the FMA
// latency times the FMA pipes, so the pipes never wait; one FMA on L lanes is 2·L FLOP.
// Prints a table for 1 thread and for every thread at once (the cores a run uses), best of
// REPEATS. bench/cnn_round.sh divides a round's FLOP by it.
// Usage: bench_fma_peak [THREADS (all cores)] [--json]
#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

namespace {

constexpr int kChains = 24;          // > latency (4-5 cycles) x pipes (2) on current x86 cores
constexpr long kIterations = 100'000'000;
constexpr int kRepeats = 5;

// The sum keeps the chains alive; the values stay finite (x -> 0.999999 x + 1e-7).
__attribute__((target("avx512f"))) float chains_avx512(long iterations) {
  __m512 acc[kChains];
  for (int k = 0; k < kChains; ++k) acc[k] = _mm512_set1_ps(static_cast<float>(k));
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
  for (long i = 0; i < iterations; ++i) {
#pragma GCC unroll 24
    for (int k = 0; k < kChains; ++k) acc[k] = _mm512_fmadd_ps(acc[k], a, b);
  }
  alignas(64) float lanes[16];
  float total = 0;
  for (int k = 0; k < kChains; ++k) {
    _mm512_store_ps(lanes, acc[k]);
    for (float v : lanes) total += v;
  }
  return total;
}

__attribute__((target("avx2,fma"))) float chains_avx2(long iterations) {
  __m256 acc[kChains / 2];  // 16 ymm registers: 12 chains
  for (int k = 0; k < kChains / 2; ++k) acc[k] = _mm256_set1_ps(static_cast<float>(k));
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  for (long i = 0; i < iterations; ++i) {
#pragma GCC unroll 12
    for (int k = 0; k < kChains / 2; ++k) acc[k] = _mm256_fmadd_ps(acc[k], a, b);
  }
  alignas(32) float lanes[8];
  float total = 0;
  for (int k = 0; k < kChains / 2; ++k) {
    _mm256_store_ps(lanes, acc[k]);
    for (float v : lanes) total += v;
  }
  return total;
}

struct Kernel {
  const char* name;
  double flop_per_iteration;
  float (*run)(long);
};

Kernel widest() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return {"AVX-512 FMA", 2.0 * 16 * kChains, chains_avx512};
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return {"AVX2 FMA", 2.0 * 8 * kChains / 2, chains_avx2};
  return {nullptr, 0, nullptr};
}

volatile float g_sink;

// GFLOP/s of `threads` threads running the kernel at once, best of kRepeats.
double gflops(const Kernel& k, int threads) {
  double best = 0;
  for (int r = 0; r < kRepeats; ++r) {
    std::vector<std::thread> pool;
    const auto start = std::chrono::steady_clock::now();
    for (int t = 0; t < threads; ++t) pool.emplace_back([&] { g_sink = k.run(kIterations); });
    for (auto& t : pool) t.join();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    best = std::max(best, threads * kIterations * k.flop_per_iteration / seconds / 1e9);
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  int threads = static_cast<int>(std::thread::hardware_concurrency());
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--json") == 0) {
      json = true;
    } else if (std::atoi(argv[i]) >= 1) {
      threads = std::atoi(argv[i]);
    } else {
      std::fprintf(stderr, "bench_fma_peak: '%s': expected a thread count >= 1 or --json\n", argv[i]);
      return 2;
    }
  }
  const Kernel k = widest();
  if (!k.run) {
    std::fprintf(stderr, "bench_fma_peak: this CPU has neither AVX-512 nor AVX2 with FMA\n");
    return 2;
  }
  const double one = gflops(k, 1), all = gflops(k, threads);
  if (json) {
    std::printf("{\"kernel\": \"%s\", \"threads\": %d, \"gflops_1\": %.1f, \"gflops\": %.1f}\n", k.name, threads, one, all);
    return 0;
  }
  std::printf("float32 FMA peak, %s, %d independent chains a thread, best of %d\n\n", k.name, kChains, kRepeats);
  std::printf("| threads | GFLOP/s | per thread |\n|---|---|---|\n");
  std::printf("| 1 | %.1f | %.1f |\n", one, one);
  std::printf("| %d | %.1f | %.1f |\n", threads, all, all / threads);
  return 0;
}
