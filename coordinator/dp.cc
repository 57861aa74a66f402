#include "coordinator/dp.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <sstream>

#include "core/check.h"
#include "core/parse.h"
#include "core/rng.h"

namespace xfed::coordinator {
namespace {

constexpr double kMaxSpecValue = 1e6;

// The keystream of `key` as 64-bit words, little-endian.
std::vector<uint64_t> secret_words(size_t n, const SecretKey& key) {
  std::vector<uint8_t> bytes(8 * n);
  chacha20_keystream(key, bytes.data(), bytes.size());
  std::vector<uint64_t> words(n);
  for (size_t i = 0; i < n; ++i) {
    uint64_t w = 0;
    for (int b = 7; b >= 0; --b) w = (w << 8) | bytes[8 * i + static_cast<size_t>(b)];
    words[i] = w;
  }
  return words;
}

// A uniform double in [0, 1) from the top 53 bits.
double unit_interval(uint64_t word) { return static_cast<double>(word >> 11) * 0x1.0p-53; }

SecretKey secret_of_seed(uint64_t seed) { return derive_secret(SecretKey{}, kStreamDpSeed, seed); }

bool parse_in(const std::string& text, double lo, double hi, bool lo_open, double* v) {
  return parse_double(text, v) && in_range(*v, lo, hi, lo_open);
}

}  // namespace

Result<DpSpec> DpSpec::parse(const std::string& text) {
  const std::string usage = "--dp '" + text +
                            "': expected clip=C,noise=Z[,adaptive=QUANTILE][,delta=D][,target_epsilon=E][,seed=S] "
                            "with C and Z in (0, 1e6], QUANTILE and D in (0, 1), E in (0, 1e6], S a whole number";
  const auto items = parse_key_values(text, ',');
  if (!items) return Status::usage(usage);
  DpSpec spec;
  bool has_clip = false, has_noise = false;
  std::vector<std::string> seen;
  for (const auto& [key, value] : *items) {
    if (std::find(seen.begin(), seen.end(), key) != seen.end())
      return Status::usage("--dp '" + text + "': " + key + " given twice");
    seen.push_back(key);
    double v = 0;
    bool ok = false;
    if (key == "clip") {
      ok = has_clip = parse_in(value, 0, kMaxSpecValue, true, &spec.clip);
    } else if (key == "noise") {
      ok = has_noise = parse_in(value, 0, kMaxSpecValue, true, &spec.noise);
    } else if (key == "adaptive") {
      ok = parse_in(value, 0, 1, true, &v) && v < 1;
      spec.adaptive = v;
    } else if (key == "delta") {
      ok = parse_in(value, 0, 1, true, &spec.delta) && spec.delta < 1;
    } else if (key == "target_epsilon") {
      ok = parse_in(value, 0, kMaxSpecValue, true, &v);
      spec.target_epsilon = v;
    } else if (key == "seed") {
      int64_t s = 0;
      ok = parse_int64(value, &s) && s >= 0;
      spec.seed = static_cast<uint64_t>(s);
    }
    if (!ok) return Status::usage(usage);
  }
  if (!has_clip || !has_noise) return Status::usage(usage);
  return spec;
}

std::string DpSpec::identity() const {
  std::ostringstream os;
  os << "clip=" << exact_number(clip) << ",noise=" << exact_number(noise);
  if (adaptive) os << ",adaptive=" << exact_number(*adaptive);
  os << ",delta=" << exact_number(delta);
  if (target_epsilon) os << ",target_epsilon=" << exact_number(*target_epsilon);
  return os.str();
}

PrivateAggregation::PrivateAggregation(const DpSpec& spec, int64_t clients, double fraction)
    : spec_(spec),
      clients_(clients),
      q_(fraction),
      accountant_(fraction, spec.noise, spec.delta),
      secret_(spec.seed ? secret_of_seed(*spec.seed) : random_secret()),
      clip_(spec.clip) {}

Result<PrivateAggregation> PrivateAggregation::make(const DpSpec& spec, int64_t clients, double fraction) {
  if (!(clients >= 1 && fraction > 0 && fraction <= 1))
    return Status::usage("--dp: needs --clients >= 1 and --fraction in (0, 1]");
  PrivateAggregation dp(spec, clients, fraction);
  if (spec.adaptive && !(2 * dp.count_noise_std() > spec.noise))
    return Status::usage("--dp adaptive=" + exact_number(*spec.adaptive) + ": the clipped-count noise (std " +
                         short_number(dp.count_noise_std()) + " = expected clients / 20) must be above noise/2 = " +
                         short_number(spec.noise / 2) + "; sample more clients per round or drop adaptive");
  if (spec.target_epsilon && dp.spent(1).epsilon > *spec.target_epsilon)
    return Status::usage("--dp target_epsilon=" + exact_number(*spec.target_epsilon) + ": one round alone spends epsilon " +
                         short_number(dp.spent(1).epsilon) + " (raise noise, lower --fraction or raise the target)");
  return dp;
}

std::vector<int64_t> PrivateAggregation::sample(int64_t round) const {
  const auto words = secret_words(static_cast<size_t>(clients_),
                                  derive_secret(secret_, kStreamDpSampling, static_cast<uint64_t>(round)));
  std::vector<int64_t> sampled;
  for (int64_t c = 0; c < clients_; ++c)
    if (q_ >= 1 || unit_interval(words[static_cast<size_t>(c)]) < q_) sampled.push_back(c);
  return sampled;
}

double PrivateAggregation::update_noise_multiplier() const {
  if (!spec_.adaptive) return spec_.noise;
  const double count_term = 1 / (4 * count_noise_std() * count_noise_std());
  return 1 / std::sqrt(1 / (spec_.noise * spec_.noise) - count_term);
}

at::Tensor PrivateAggregation::aggregate(const std::vector<ClientUpdate>& updates, int64_t numel, int64_t round) {
  const double c = clip_;
  auto sum = at::zeros({numel}, at::kDouble);
  int64_t within = 0;  // updates with norm <= C (adaptive clipping's count)
  for (const auto& u : updates) {  // client-id order
    XFED_CHECK_EQ(u.delta.numel(), numel, "--dp: an update of another length");
    const double norm = l2_norm(u.delta);
    within += norm <= c;
    const double scale = norm > c ? c / norm : 1.0;
    sum.add_(u.delta.to(at::kDouble), scale);
  }
  const auto noise = secret_gaussian(numel, update_noise_multiplier() * c,
                                     derive_secret(secret_, kStreamDpNoise, static_cast<uint64_t>(round)));
  double* s = sum.data_ptr<double>();
  for (int64_t j = 0; j < numel; ++j) s[j] += noise[static_cast<size_t>(j)];
  if (spec_.adaptive) {
    const double noisy_count =
        static_cast<double>(within) +
        secret_gaussian(1, count_noise_std(), derive_secret(secret_, kStreamDpClipCount, static_cast<uint64_t>(round)))[0];
    const double below = noisy_count / expected_clients();
    clip_ = c * std::exp(-kAdaptiveClipLr * (below - *spec_.adaptive));
  }
  return (sum / expected_clients()).to(at::kFloat);
}

int64_t PrivateAggregation::last_round_within_target(int64_t rounds) const {
  if (!spec_.target_epsilon) return rounds;
  int64_t lo = 0, hi = rounds;  // ε grows with the rounds: the last within is found by bisection
  while (lo < hi) {
    const int64_t mid = lo + (hi - lo + 1) / 2;
    if (spent(mid).epsilon <= *spec_.target_epsilon)
      lo = mid;
    else
      hi = mid - 1;
  }
  return lo;
}

void PrivateAggregation::save(ByteWriter& w) const {
  w.put_bytes(secret_.data(), secret_.size());
  w.put_f64(clip_);
}

Status PrivateAggregation::restore(ByteReader& r) {
  SecretKey secret;
  double clip = 0;
  if (!r.get_bytes(secret.data(), secret.size()) || !r.get_f64(&clip) || !(clip > 0 && std::isfinite(clip)))
    return Status::corruption("the --dp state is malformed");
  secret_ = secret;
  clip_ = clip;
  return Status::ok();
}

double l2_norm(const at::Tensor& v) {
  XFED_CHECK(v.is_contiguous() && v.scalar_type() == at::kFloat, "l2_norm: a contiguous float32 vector");
  const float* p = v.data_ptr<float>();
  double sum = 0;
  for (int64_t j = 0; j < v.numel(); ++j) sum += static_cast<double>(p[j]) * p[j];
  return std::sqrt(sum);
}

std::vector<double> secret_gaussian(int64_t n, double std, const SecretKey& key) {
  const size_t pairs = static_cast<size_t>((n + 1) / 2);
  const auto words = secret_words(2 * pairs, key);
  std::vector<double> out(2 * pairs);
  for (size_t i = 0; i < pairs; ++i) {
    const double u1 = 1.0 - unit_interval(words[2 * i]);  // (0, 1]: the log is finite
    const double u2 = unit_interval(words[2 * i + 1]);
    const double radius = std * std::sqrt(-2.0 * std::log(u1));
    out[2 * i] = radius * std::cos(2 * M_PI * u2);
    out[2 * i + 1] = radius * std::sin(2 * M_PI * u2);
  }
  out.resize(static_cast<size_t>(n));
  return out;
}

}  // namespace xfed::coordinator
