#include "coordinator/rdp_accountant.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/check.h"

namespace xfed::coordinator {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// log(e^a + e^b), either may be -inf.
double log_add(double a, double b) {
  const double lo = std::min(a, b), hi = std::max(a, b);
  if (lo == -kInf) return hi;
  return std::log1p(std::exp(lo - hi)) + hi;
}

// log(e^a - e^b) for a >= b (the series' partial sums stay positive).
double log_sub(double a, double b) {
  XFED_CHECK(a >= b, "RDP series: a negative partial sum");
  if (b == -kInf) return a;
  if (a == b) return -kInf;
  return std::log(std::expm1(a - b)) + b;
}

// log(erfc(x)), accurate where erfc underflows (the asymptotic series at infinity).
double log_erfc(double x) {
  const double r = std::erfc(x);
  if (r > 0) return std::log(r);
  const double x2 = x * x;
  return -0.5 * std::log(M_PI) - std::log(x) - x2 - 0.5 / x2 + 0.625 / (x2 * x2) - 37.0 / 24.0 / (x2 * x2 * x2) +
         353.0 / 64.0 / (x2 * x2 * x2 * x2);
}

double log_binomial(double n, double k) { return std::lgamma(n + 1) - std::lgamma(k + 1) - std::lgamma(n - k + 1); }

// log(A_α) for integer α: the binomial expansion, every term positive.
double log_a_integer(double q, double z, int64_t alpha) {
  double log_a = -kInf;
  for (int64_t i = 0; i <= alpha; ++i) {
    const double di = static_cast<double>(i);
    const double term = log_binomial(static_cast<double>(alpha), di) + di * std::log(q) +
                        static_cast<double>(alpha - i) * std::log1p(-q) + (di * di - di) / (2 * z * z);
    log_a = log_add(log_a, term);
  }
  return log_a;
}

// log(A_α) for fractional α: the integral split at z0 where the two densities cross, each
// half a series in binomial(α, i) (whose sign alternates once i > α), summed until the
// terms are below e^-30.
double log_a_fractional(double q, double z, double alpha) {
  double log_a0 = -kInf, log_a1 = -kInf;
  const double z0 = z * z * std::log(1 / q - 1) + 0.5;
  double log_coef = 0;  // log|binomial(α, i)|
  bool positive = true;
  for (int64_t n = 0;; ++n) {
    const double i = static_cast<double>(n);
    const double j = alpha - i;
    const double log_t0 = log_coef + i * std::log(q) + j * std::log1p(-q);
    const double log_t1 = log_coef + j * std::log(q) + i * std::log1p(-q);
    const double log_e0 = std::log(0.5) + log_erfc((i - z0) / (M_SQRT2 * z));
    const double log_e1 = std::log(0.5) + log_erfc((z0 - j) / (M_SQRT2 * z));
    const double log_s0 = log_t0 + (i * i - i) / (2 * z * z) + log_e0;
    const double log_s1 = log_t1 + (j * j - j) / (2 * z * z) + log_e1;
    if (positive) {
      log_a0 = log_add(log_a0, log_s0);
      log_a1 = log_add(log_a1, log_s1);
    } else {
      log_a0 = log_sub(log_a0, log_s0);
      log_a1 = log_sub(log_a1, log_s1);
    }
    if (std::max(log_s0, log_s1) < -30) break;
    XFED_CHECK(n < 100000, "RDP series did not converge");
    // binomial(α, i+1) = binomial(α, i) (α - i) / (i + 1)
    log_coef += std::log(std::abs(alpha - i)) - std::log(i + 1);
    if (alpha - i < 0) positive = !positive;
  }
  return log_add(log_a0, log_a1);
}

}  // namespace

std::vector<double> default_rdp_orders() {
  std::vector<double> orders;
  for (int x = 1; x < 100; ++x) orders.push_back(1 + x / 10.0);
  for (int a = 12; a < 64; ++a) orders.push_back(a);
  return orders;
}

double sampled_gaussian_rdp(double q, double noise_multiplier, double order) {
  XFED_CHECK(q >= 0 && q <= 1, "sampled_gaussian_rdp: q outside [0, 1]");
  XFED_CHECK(order > 1, "sampled_gaussian_rdp: order must be above 1");
  if (noise_multiplier == 0 || std::isinf(order)) return kInf;
  if (q == 0) return 0;
  if (q == 1) return order / (2 * noise_multiplier * noise_multiplier);
  const double log_a = std::floor(order) == order
                           ? log_a_integer(q, noise_multiplier, static_cast<int64_t>(order))
                           : log_a_fractional(q, noise_multiplier, order);
  return log_a / (order - 1);
}

PrivacySpent epsilon_of_rdp(const std::vector<double>& orders, const std::vector<double>& rdp, double delta) {
  XFED_CHECK_EQ(orders.size(), rdp.size(), "epsilon_of_rdp: one RDP value per order");
  XFED_CHECK(delta > 0 && delta < 1, "epsilon_of_rdp: delta outside (0, 1)");
  PrivacySpent best{kInf, 0};
  for (size_t k = 0; k < orders.size(); ++k) {
    const double a = orders[k], r = rdp[k];
    double eps = kInf;
    if (delta * delta + std::expm1(-r) > 0)  // the KL bound: delta <= sqrt(1 - e^-r) already
      eps = 0;
    else if (a > 1.01)  // the bound is unstable as a -> 1
      eps = r + std::log1p(-1 / a) - std::log(delta * a) / (a - 1);
    if (eps < best.epsilon) best = {eps, a};
  }
  best.epsilon = std::max(0.0, best.epsilon);
  return best;
}

RdpAccountant::RdpAccountant(double q, double noise_multiplier, double delta, std::vector<double> orders)
    : orders_(std::move(orders)), delta_(delta) {
  for (double a : orders_) rdp_per_round_.push_back(sampled_gaussian_rdp(q, noise_multiplier, a));
}

PrivacySpent RdpAccountant::spent(int64_t rounds) const {
  if (rounds == 0) return {0, 0};
  std::vector<double> rdp(rdp_per_round_.size());
  for (size_t k = 0; k < rdp.size(); ++k) rdp[k] = static_cast<double>(rounds) * rdp_per_round_[k];
  return epsilon_of_rdp(orders_, rdp, delta_);
}

PrivacySpent RdpAccountant::spent_with(int64_t rounds, const RdpAccountant& other, int64_t other_rounds) const {
  if (other_rounds == 0) return spent(rounds);
  if (rounds == 0) return other.spent(other_rounds);
  XFED_CHECK(other.orders_ == orders_ && other.delta_ == delta_, "composing accountants of other orders or delta");
  std::vector<double> rdp(rdp_per_round_.size());
  for (size_t k = 0; k < rdp.size(); ++k)
    rdp[k] = static_cast<double>(rounds) * rdp_per_round_[k] +
             static_cast<double>(other_rounds) * other.rdp_per_round_[k];
  return epsilon_of_rdp(orders_, rdp, delta_);
}

}  // namespace xfed::coordinator
