// The privacy accountant of --dp: Rényi differential privacy (RDP) of the sampled Gaussian
// mechanism (Mironov, Talwar, Zhang 2019, "Rényi Differential Privacy of the Sampled
// Gaussian Mechanism"), composed over rounds by adding RDP order by order, and converted to
// (ε, δ) with the bound of Canonne, Kamath, Steinke 2020 (Proposition 12; also Balle et al.
// 2020), as Opacus and Google's dp_accounting do.
//
// One round of DP-FedAvg is that mechanism: each client is in the round with probability q
// (Poisson sampling), its update is clipped to norm C (the sensitivity of the sum when one
// client's data is added or removed), and N(0, (zC)^2) noise is added to each coordinate of
// the sum. Its RDP at order α is log(A_α)/(α-1) with
//   A_α = E_{x~N(0,z²)} [((1-q) + q·exp((2x-1)/(2z²)))^α],
// summed exactly for integer α and by the two-sided series of the paper (section 3.3) for
// fractional α. q = 1 is the plain Gaussian mechanism: α/(2z²).
//
// Pure functions of doubles; no state but the count of rounds.
#pragma once

#include <cstdint>
#include <vector>

namespace xfed::coordinator {

// The orders Opacus and dp_accounting use by default: 1.1, 1.2, ..., 10.9, 12, 13, ..., 63.
std::vector<double> default_rdp_orders();

// RDP at `order` (> 1) of one sampled Gaussian mechanism with sampling probability q in
// [0, 1] and noise multiplier z > 0 (noise std / sensitivity). +inf for z = 0.
double sampled_gaussian_rdp(double q, double noise_multiplier, double order);

struct PrivacySpent {
  double epsilon = 0;
  double order = 0;  // the order that gave it
};

// The smallest ε over `orders` for which RDP values `rdp` (one per order) give (ε, δ)-DP.
PrivacySpent epsilon_of_rdp(const std::vector<double>& orders, const std::vector<double>& rdp, double delta);

// Rounds of one sampled Gaussian mechanism (fixed q and z) composed.
class RdpAccountant {
 public:
  RdpAccountant(double q, double noise_multiplier, double delta,
                std::vector<double> orders = default_rdp_orders());
  // (ε, δ) after `rounds` rounds.
  PrivacySpent spent(int64_t rounds) const;
  // (ε, δ) after `rounds` rounds of this mechanism and `other_rounds` of `other` (same orders
  // and δ): RDP adds order by order whatever the mechanisms.
  PrivacySpent spent_with(int64_t rounds, const RdpAccountant& other, int64_t other_rounds) const;
  double delta() const { return delta_; }

 private:
  std::vector<double> orders_;
  std::vector<double> rdp_per_round_;
  double delta_;
};

}  // namespace xfed::coordinator
