#include "pruning/criteria.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <map>

namespace xfed::pruning {
namespace {

const std::map<std::string, Criterion>& names() {
  static const std::map<std::string, Criterion> m = {
      {"di", Criterion::kDi},   {"drop", Criterion::kDrop},     {"fdr", Criterion::kFdr},
      {"l1", Criterion::kL1},   {"bn", Criterion::kBn},         {"taylor", Criterion::kTaylor},
      {"random", Criterion::kRandom}};
  return m;
}

// Sum over a layer's taps of one DI-derived score.
at::Tensor weight_l1(NetImpl& model, int layer, int64_t units, bool incoming);

Result<LayerScores> from_stats(Criterion c, NetImpl& model, const Evidence& ev, const RhoOptions& rho,
                               const RhoOptions& input_rho, bool input_by_weights) {
  const auto tap_layer = model.tap_layers();
  const auto layers = model.prunable_layers();
  if (ev.taps.size() != tap_layer.size())
    return Status::error("class statistics for " + std::to_string(ev.taps.size()) + " taps, model has " +
                         std::to_string(tap_layer.size()));
  LayerScores out;
  for (const auto& l : layers) out.scores.push_back(at::zeros({l.units}, at::kDouble));
  out.di.assign(layers.size(), 0.0);
  for (size_t t = 0; t < tap_layer.size(); ++t) {
    const int layer = tap_layer[t];
    if (input_by_weights && layers[layer].name == "input") {
      out.scores[layer] = weight_l1(model, layer, layers[layer].units, false);
      continue;
    }
    if (!ev.taps[t]) return Status::error("no class statistics for layer " + layers[tap_layer[t]].name);
    auto s = di_scores(*ev.taps[t], layers[tap_layer[t]].name == "input" ? input_rho : rho);
    if (!s) return s.status().prefixed("layer " + layers[tap_layer[t]].name);
    const auto& d = s.value();
    out.scores[tap_layer[t]] += c == Criterion::kDi ? d.diloss : c == Criterion::kDrop ? d.drop : d.fdr;
    out.di[tap_layer[t]] += d.di;
  }
  return out;
}

// Sum over |w| of every tensor bound to the layer at `dim`, per unit.
at::Tensor weight_l1(NetImpl& model, int layer, int64_t units, bool incoming) {
  auto params = model.named_parameters(true);
  auto total = at::zeros({units}, at::kDouble);
  for (const auto& b : model.axis_bindings()) {
    if (b.layer != layer || b.tensor.size() < 6 || b.tensor.compare(b.tensor.size() - 6, 6, "weight") != 0)
      continue;  // "fc1.weight", or "fc1_weight" as a TorchScript model names its tensors
    const auto& w = params[b.tensor];
    if (w.dim() < 2 || (incoming ? b.dim != 0 : b.dim != 1)) continue;  // skip BN gammas
    auto per = w.detach().abs().transpose(0, b.dim).reshape({w.size(b.dim), -1}).sum(1).to(at::kDouble);
    total += per.view({units, -1}).sum(1);  // blocks (flatten) fold back onto their unit
  }
  return total;
}

// The BatchNorm gammas bound to a layer's units (none: the layer has no BatchNorm).
std::vector<std::string> bn_gammas(const NetImpl& model, int layer) {
  std::vector<std::string> out;
  for (const auto& b : model.axis_bindings())
    if (b.layer == layer && b.tensor.find("bn") != std::string::npos &&
        b.tensor.find(".weight") != std::string::npos)
      out.push_back(b.tensor);
  return out;
}

at::Tensor bn_gamma(NetImpl& model, int layer, int64_t units) {
  auto params = model.named_parameters(true);
  auto total = at::zeros({units}, at::kDouble);
  for (const auto& name : bn_gammas(model, layer)) total += params[name].detach().abs().to(at::kDouble);
  return total;
}

}  // namespace

Result<Criterion> parse_criterion(const std::string& name) {
  const auto it = names().find(name);
  if (it == names().end())
    return Status::usage("--prune: unknown criterion '" + name + "' (di, drop, fdr, l1, bn, taylor, random)");
  return it->second;
}

const char* criterion_name(Criterion c) {
  for (const auto& [n, v] : names())
    if (v == c) return n.c_str();
  return "?";
}

Status check_criterion(Criterion c, const NetImpl& model) {
  if (c != Criterion::kBn) return Status::ok();
  const auto layers = model.prunable_layers();
  for (int l = 0; l < static_cast<int>(layers.size()); ++l)
    if (bn_gammas(model, l).empty())
      return Status::usage("--prune bn: model " + model.spec().arch + " has no BatchNorm on layer '" +
                           layers[l].name +
                           "' (bn needs one on every prunable layer, as in vgg and resnet20)");
  return Status::ok();
}

bool needs_class_stats(Criterion c) {
  return c == Criterion::kDi || c == Criterion::kDrop || c == Criterion::kFdr;
}

Result<LayerScores> score_layers(Criterion c, NetImpl& model, const Evidence& ev,
                                 const RhoOptions& rho, uint64_t seed, const RhoOptions& input_rho,
                                 bool input_by_weights) {
  if (needs_class_stats(c)) return from_stats(c, model, ev, rho, input_rho, input_by_weights);
  if (auto st = check_criterion(c, model); !st) return st;
  const auto layers = model.prunable_layers();
  LayerScores out;
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  for (int l = 0; l < static_cast<int>(layers.size()); ++l) {
    const int64_t n = layers[l].units;
    switch (c) {
      case Criterion::kL1: {
        auto in = weight_l1(model, l, n, true);
        out.scores.push_back(in.abs().sum().item<double>() > 0 ? in : weight_l1(model, l, n, false));
        break;
      }
      case Criterion::kBn: out.scores.push_back(bn_gamma(model, l, n)); break;
      case Criterion::kRandom: out.scores.push_back(at::rand({n}, gen, at::kDouble)); break;
      default: out.scores.push_back(at::zeros({n}, at::kDouble));
    }
  }
  if (c == Criterion::kTaylor) {
    const auto tap_layer = model.tap_layers();
    if (ev.taylor_sums.size() != tap_layer.size() || ev.taylor_samples <= 0)
      return Status::error("criterion taylor: no activation x gradient sums were gathered");
    for (size_t t = 0; t < tap_layer.size(); ++t)
      out.scores[tap_layer[t]] += (ev.taylor_sums[t] / ev.taylor_samples).abs();
  }
  return out;
}

}  // namespace xfed::pruning
