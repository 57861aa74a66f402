#include "pruning/planner.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <sstream>

#include "core/parse.h"

namespace xfed::pruning {
namespace {

Status set_key(PruneOptions& o, const std::string& key, double v) {
  auto in = [&](double lo, double hi) { return v >= lo && v <= hi; };
  auto whole = [&](double lo) { return v == std::floor(v) && v >= lo; };
  if (key == "every" && whole(1)) o.every = static_cast<int64_t>(v);
  else if (key == "warmup" && whole(1)) o.warmup = static_cast<int64_t>(v);
  else if (key == "fraction" && in(1e-6, 0.95)) o.fraction = v;
  else if (key == "input_fraction" && in(0, 0.95)) o.input_fraction = v;
  else if (key == "lambda" && in(0, 1e6)) o.lambda = v;
  else if (key == "target" && in(1e-4, 1)) o.target = v, o.target_flops = false;
  else if (key == "target_flops" && in(1e-4, 1)) o.target = v, o.target_flops = true;
  else if (key == "min_units" && whole(1)) o.min_units = static_cast<int64_t>(v);
  else if (key == "floor" && in(0, 1)) o.floor = v;
  else if (key == "rho" && in(1e-12, 1e12)) o.rho.scale = v;
  else if (key == "rho_abs" && in(1e-300, 1e300)) o.rho.absolute = v;
  else if (key == "input_rho" && in(1e-12, 1e12)) o.input_rho = v;
  else if (key == "stats_samples" && whole(0)) o.stats_samples = static_cast<int64_t>(v);
  else if (key == "noise" && in(0, 1e12)) o.noise = v;
  else if (key == "spatial" && (v == 0 || v == 1)) o.spatial = v == 1;
  else if (key == "input" && (v == 0 || v == 1)) o.prune_input = v == 1;
  else if (key == "restart_lr" && (v == 0 || v == 1)) o.restart_lr = v == 1;
  else if (key == "bf16" && (v == 0 || v == 1)) o.bf16_stats = v == 1;
  else return Status::error("bad key or value '" + key + "'");
  return Status::ok();
}

// Keep counts per layer for a drop fraction f (the input's scaled by input_fraction/fraction).
std::vector<int64_t> keep_counts(const std::vector<int64_t>& units, double f, const PruneOptions& o,
                                 bool first_is_input) {
  std::vector<int64_t> keep;
  for (size_t l = 0; l < units.size(); ++l) {
    const bool input = first_is_input && l == 0;
    const bool frozen = input && !o.prune_input;
    const double fl = input && o.input_fraction >= 0 ? f * o.input_fraction / o.fraction : f;
    const int64_t k = static_cast<int64_t>(std::ceil(units[l] * (1.0 - fl)));
    keep.push_back(frozen ? units[l] : std::clamp<int64_t>(k, std::min(units[l], o.min_units), units[l]));
  }
  return keep;
}

StructurePlan plan_for(NetImpl& model, const std::vector<at::Tensor>& scores,
                       const std::vector<int64_t>& keep, int64_t version) {
  StructurePlan p{version, model.spec(), {}};
  for (size_t l = 0; l < keep.size(); ++l) p.kept.push_back(top_units(scores[l], keep[l]));
  return p;
}

int64_t size_after(NetImpl& model, const StructurePlan& plan, const PruneOptions& o) {
  return model_size(*make_model(model.spec_after(plan.kept)), o);
}

}  // namespace

Result<PruneOptions> PruneOptions::parse(const std::string& spec) {
  PruneOptions o;
  const auto colon = spec.find(':');
  auto c = parse_criterion(spec.substr(0, colon));
  if (!c) return c.status();
  o.criterion = c.value();
  if (colon == std::string::npos) return o;
  std::stringstream ss(spec.substr(colon + 1));
  std::string item;
  while (std::getline(ss, item, ',')) {
    const auto eq = item.find('=');
    double v;
    if (eq == std::string::npos || !parse_double(item.substr(eq + 1), &v))
      return Status::error("--prune '" + spec + "': expected key=value, got '" + item + "'");
    if (auto st = set_key(o, item.substr(0, eq), v); !st)
      return Status::error("--prune '" + spec + "': " + st.message() +
                           " (keys: every, warmup, fraction, input_fraction, lambda, target, target_flops, "
                           "min_units, floor, rho, rho_abs, input_rho, stats_samples, noise, spatial, input, restart_lr)");
  }
  return o;
}

int64_t model_size(const NetImpl& model, const PruneOptions& o) {
  return o.target_flops ? model.flops() : model.num_params();
}

std::vector<int64_t> top_units(const at::Tensor& scores, int64_t keep) {
  const auto s = scores.to(at::kDouble).contiguous();
  const double* p = s.data_ptr<double>();
  std::vector<int64_t> order(s.numel());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return p[a] > p[b]; });
  order.resize(std::min<int64_t>(keep, s.numel()));
  std::sort(order.begin(), order.end());
  return order;
}

Result<StructurePlan> make_plan(NetImpl& model, const std::vector<at::Tensor>& scores,
                                const PruneOptions& o, int64_t original, int64_t version) {
  std::vector<int64_t> units;
  for (const auto& l : model.prunable_layers()) units.push_back(l.units);
  if (scores.size() != units.size()) return Status::error("one score vector per layer needed");
  const bool first_is_input = model.prunable_layers().front().name == "input";
  std::vector<int64_t> keep;
  if (o.lambda > 0) {
    for (size_t l = 0; l < units.size(); ++l) {
      const double cut = o.lambda * scores[l].mean().item<double>();
      const int64_t above = scores[l].ge(cut).sum().item<int64_t>();
      keep.push_back(std::clamp<int64_t>(above, std::min(units[l], o.min_units), units[l]));
    }
  } else {
    keep = keep_counts(units, o.fraction, o, first_is_input);
  }
  auto plan = plan_for(model, scores, keep, version);
  const double goal = o.target * static_cast<double>(original);
  if (static_cast<double>(size_after(model, plan, o)) >= goal) return plan;
  double lo = 0, hi = o.fraction;  // shrink the step: largest f whose result stays >= goal
  for (int it = 0; it < 30; ++it) {
    const double mid = (lo + hi) / 2;
    auto p = plan_for(model, scores, keep_counts(units, mid, o, first_is_input), version);
    (static_cast<double>(size_after(model, p, o)) >= goal ? lo : hi) = mid;
  }
  return plan_for(model, scores, keep_counts(units, hi, o, first_is_input), version);
}

}  // namespace xfed::pruning
