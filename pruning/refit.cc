#include "pruning/refit.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <map>

#include "pruning/di.h"
#include "pruning/surgery.h"

namespace xfed::pruning {
namespace {

// The linear prediction of the cut units from the kept ones.
struct Prediction {
  at::Tensor kept, cut;  // long indices K, R
  at::Tensor t;          // float64 [|K|, |R|]
  at::Tensor shift;      // float64 [|R|]: mu_R - T^T mu_K
};

std::vector<int64_t> complement(const std::vector<int64_t>& kept, int64_t units) {
  std::vector<int64_t> cut;
  size_t j = 0;
  for (int64_t u = 0; u < units; ++u) {
    if (j < kept.size() && kept[j] == u) ++j;
    else cut.push_back(u);
  }
  return cut;
}

Result<Prediction> predict_cut(const ClassStats& stats, const std::vector<int64_t>& kept, double ridge) {
  auto m = centered_moments(stats);
  if (!m) return m.status();
  const auto& s = m.value().sbar;
  Prediction p;
  p.kept = at::tensor(kept, at::kLong);
  p.cut = at::tensor(complement(kept, s.size(0)), at::kLong);
  const double trace = s.trace().item<double>();
  const double lambda = trace > 0 ? ridge * trace / static_cast<double>(s.size(0)) : 1e-12;
  const auto skk = s.index_select(0, p.kept).index_select(1, p.kept) +
                   lambda * at::eye(p.kept.numel(), at::kDouble);
  const auto skr = s.index_select(0, p.kept).index_select(1, p.cut);
  at::Tensor chol, info;
  std::tie(chol, info) = at::linalg_cholesky_ex(skk);
  if (info.item<int64_t>() != 0)
    return Status::error("refit: kept units' scatter is not positive definite; use a larger refit_ridge");
  p.t = at::cholesky_solve(skr, chol);
  const auto& mu = m.value().mean;
  p.shift = mu.index_select(0, p.cut) - p.t.t().matmul(mu.index_select(0, p.kept));
  return p;
}

// W (unit dimension 1, each unit a block of columns or a kernel) and its bias, refitted.
void refit_consumer(at::Tensor& weight, at::Tensor* bias, const Prediction& p, int64_t units) {
  const auto shape = weight.sizes().vec();
  auto w = weight.to(at::kDouble).reshape({shape[0], units, -1});  // [out, units, positions]
  const auto w_cut = w.index_select(1, p.cut);                     // [out, |R|, P]
  const auto moved = at::einsum("orp,kr->okp", {w_cut, p.t});       // [out, |K|, P]
  w.index_add_(1, p.kept, moved);
  if (bias) *bias = (bias->to(at::kDouble) + (w_cut.sum(2) * p.shift).sum(1)).to(at::kFloat);
  weight = w.reshape(shape).to(at::kFloat);
}

std::map<std::string, at::Tensor> parameters_by_name(NetImpl& model) {
  std::map<std::string, at::Tensor> out;
  for (const auto& p : model.named_parameters(true)) out[p.key()] = p.value().detach().clone();
  return out;
}

std::string bias_of(const std::string& weight) {
  const std::string suffix = "weight";
  if (weight.size() < suffix.size() || weight.compare(weight.size() - suffix.size(), suffix.size(), suffix) != 0)
    return "";
  return weight.substr(0, weight.size() - suffix.size()) + "bias";
}

// The tap of each layer that has exactly one (-1 otherwise).
std::vector<int> single_taps(const NetImpl& model) {
  const auto taps = model.tap_layers();
  std::vector<int> tap(model.prunable_layers().size(), -1), count(tap.size(), 0);
  for (size_t t = 0; t < taps.size(); ++t) {
    ++count[taps[t]];
    tap[taps[t]] = static_cast<int>(t);
  }
  for (size_t l = 0; l < tap.size(); ++l)
    if (count[l] != 1) tap[l] = -1;
  return tap;
}

}  // namespace

Result<std::vector<TensorPatch>> refit_consumers(NetImpl& model, const StructurePlan& plan,
                                                 const Evidence& evidence, const RefitOptions& options) {
  const auto units = layer_units(model);
  if (auto st = plan.validate(units); !st) return st;
  torch::NoGradGuard no_grad;
  const auto bindings = model.axis_bindings();
  const auto taps = single_taps(model);
  auto params = parameters_by_name(model);
  std::vector<std::string> refitted;
  for (const auto& b : bindings) {
    const int tap = taps[b.layer];
    if (b.dim != 1 || tap < 0 || tap >= static_cast<int>(evidence.taps.size()) || !evidence.taps[tap] ||
        static_cast<int64_t>(plan.kept[b.layer].size()) == units[b.layer])
      continue;
    if (evidence.taps[tap]->units() != units[b.layer])
      return Status::error("refit: statistics of layer " + std::to_string(b.layer) + " have " +
                           std::to_string(evidence.taps[tap]->units()) + " units, the model " +
                           std::to_string(units[b.layer]));
    auto p = predict_cut(*evidence.taps[tap], plan.kept[b.layer], options.ridge);
    if (!p) return p.status();
    const auto bias_name = bias_of(b.tensor);
    const auto bias = params.find(bias_name);
    refit_consumer(params.at(b.tensor), bias == params.end() ? nullptr : &bias->second, p.value(), units[b.layer]);
    refitted.push_back(b.tensor);
    if (bias != params.end()) refitted.push_back(bias_name);
  }
  std::vector<TensorPatch> patches;
  for (const auto& name : refitted) {
    const auto t = slice_named(params.at(name), name, bindings, plan).contiguous();
    const auto* data = t.data_ptr<float>();
    patches.push_back(TensorPatch{name, std::vector<float>(data, data + t.numel())});
  }
  return patches;
}

}  // namespace xfed::pruning
