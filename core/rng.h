// Seed derivation: every random stream in xfed is a pure function of the run seed and a
// few integers (stream, round, client), never of thread scheduling or arrival order. That
// is what makes a run bit-identical whatever --threads is.
#pragma once

#include <cstdint>

namespace xfed {

// Stream tags; values only need to differ.
enum : uint64_t {
  kStreamPartition = 1,
  kStreamSampling = 2,
  kStreamLocalTraining = 3,
  kStreamModelInit = 4,
  kStreamCodec = 5,
  kStreamStats = 6,
  kStreamPlacement = 7,
  kStreamModelDraws = 8,  // a model's own draws in training (a TorchScript dropout)
  kStreamAttack = 9,      // --attack: which clients are hostile, and their noise
  // --dp: purposes of keys derived from its secret (never from the run seed, which is not secret)
  kStreamDpSampling = 10,
  kStreamDpNoise = 11,
  kStreamDpClipCount = 12,
  kStreamDpSeed = 13,     // --dp seed=S: the secret made from S (reproducible experiments)
  kStreamDpLocalNoise = 14,  // --dp mode=local: a client's own noise
  kStreamDpStatsSampling = 15,  // --dp with DI pruning: who a statistics round asks
  kStreamDpStatsNoise = 16,     // --dp with DI pruning: the statistics' noise
  kStreamSecAggSupport = 17,    // --secure-aggregation: the round's shared positions (public)
  kStreamSecAggGraph = 18,      // --secure-aggregation: the round's neighbour graph (public)
  kStreamSecAggRounding = 19,   // --secure-aggregation: a client's stochastic rounding
};

// SplitMix64 finalizer: a well-mixed 64-bit hash.
inline uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

inline uint64_t mix_seed(uint64_t seed, uint64_t a, uint64_t b = 0, uint64_t c = 0) {
  return splitmix64(splitmix64(splitmix64(splitmix64(seed) ^ a) ^ b) ^ c);
}

}  // namespace xfed
