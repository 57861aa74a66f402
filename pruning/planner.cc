#include "pruning/planner.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <sstream>

#include "core/parse.h"

namespace xfed::pruning {
namespace {

// One `--prune` key: its allowed range, whether it is a whole number, and where it goes.
struct KeySpec {
  const char* name;
  double lo, hi;
  bool whole;
  void (*set)(PruneOptions&, double);
};

const std::vector<KeySpec>& key_specs() {
  static const std::vector<KeySpec> keys = {
      {"every", 1, 1e9, true, [](PruneOptions& o, double v) { o.every = static_cast<int64_t>(v); }},
      {"warmup", 1, 1e9, true, [](PruneOptions& o, double v) { o.warmup = static_cast<int64_t>(v); }},
      {"fraction", 1e-6, 0.95, false, [](PruneOptions& o, double v) { o.fraction = v; }},
      {"input_fraction", 0, 0.95, false, [](PruneOptions& o, double v) { o.input_fraction = v; }},
      {"lambda", 0, 1e6, false, [](PruneOptions& o, double v) { o.lambda = v; }},
      {"target", 1e-4, 1, false, [](PruneOptions& o, double v) { o.target = v, o.target_flops = false; }},
      {"target_flops", 1e-4, 1, false, [](PruneOptions& o, double v) { o.target = v, o.target_flops = true; }},
      {"min_units", 1, 1e9, true, [](PruneOptions& o, double v) { o.min_units = static_cast<int64_t>(v); }},
      {"floor", 0, 1, false, [](PruneOptions& o, double v) { o.floor = v; }},
      {"rho", 1e-12, 1e12, false, [](PruneOptions& o, double v) { o.rho.scale = v; }},
      {"rho_abs", 1e-300, 1e300, false, [](PruneOptions& o, double v) { o.rho.absolute = v; }},
      {"input_l1", 0, 1, true, [](PruneOptions& o, double v) { o.input_l1 = v == 1; }},
      {"stats_fraction", 1e-6, 1, false, [](PruneOptions& o, double v) { o.stats_fraction = v; }},
      {"stats_trim", 0, 1e6, true, [](PruneOptions& o, double v) { o.stats_trim = static_cast<int64_t>(v); }},
      {"input_rho", 1e-12, 1e12, false, [](PruneOptions& o, double v) { o.input_rho = v; }},
      {"stats_samples", 0, 1e12, true,
       [](PruneOptions& o, double v) { o.stats_samples = static_cast<int64_t>(v); }},
      {"noise", 0, 1e12, false, [](PruneOptions& o, double v) { o.noise = v; }},
      {"spatial", 0, 1, true, [](PruneOptions& o, double v) { o.spatial = v == 1; }},
      {"input", 0, 1, true, [](PruneOptions& o, double v) { o.prune_input = v == 1; }},
      {"restart_lr", 0, 1, true, [](PruneOptions& o, double v) { o.restart_lr = v == 1; }},
      {"bf16", 0, 1, true, [](PruneOptions& o, double v) { o.bf16_stats = v == 1; }},
      {"refit", 0, 1, true, [](PruneOptions& o, double v) { o.refit = v == 1; }},
      {"refit_ridge", 0, 1e6, false, [](PruneOptions& o, double v) { o.refit_ridge = v; }},
  };
  return keys;
}

// "a whole number >= 1", "a number in [0, 0.95]", "a number > 0".
std::string describe(const KeySpec& k) {
  std::ostringstream out;
  out << (k.whole ? "a whole number " : "a number ");
  const bool bounded = k.hi < 1e9;
  const bool positive = k.lo > 0 && k.lo <= 1e-9;  // a tiny lower bound stands for "> 0"
  if (bounded && !positive) out << "in [" << k.lo << ", " << k.hi << "]";
  else if (bounded) out << "> 0 and <= " << k.hi;
  else if (positive) out << "> 0";
  else out << ">= " << k.lo;
  return out.str();
}

std::string key_names() {
  std::string out;
  for (const auto& k : key_specs()) out += (out.empty() ? "" : ", ") + std::string(k.name);
  return out;
}

Status set_key(PruneOptions& o, const std::string& key, const std::string& value) {
  const auto& keys = key_specs();
  const auto k = std::find_if(keys.begin(), keys.end(), [&](const KeySpec& s) { return key == s.name; });
  if (k == keys.end()) return Status::usage("unknown key '" + key + "' (keys: " + key_names() + ")");
  double v;
  if (!parse_double(value, &v) || v < k->lo || v > k->hi || (k->whole && v != std::floor(v))) {
    return Status::usage("'" + key + "=" + value + "': expected " + describe(*k));
  }
  k->set(o, v);
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
  StructurePlan p;
  p.version = version;
  p.from = model.spec();
  for (size_t l = 0; l < keep.size(); ++l) p.kept.push_back(top_units(scores[l], keep[l]));
  return p;
}

int64_t size_after(NetImpl& model, const StructurePlan& plan, const PruneOptions& o) {
  return model_size(*make_model(model.spec_after(plan.kept)), o);
}

}  // namespace

Result<PruneOptions> PruneOptions::parse(const std::string& spec) {
  PruneOptions o;
  const auto [name, args] = split_spec(spec);
  auto c = parse_criterion(name);
  if (!c) return c.status();
  o.criterion = c.value();
  if (!args) return o;
  const auto items = parse_key_values(*args);
  if (!items) return Status::usage("--prune '" + spec + "': expected key=value items separated by ','");
  for (const auto& [key, value] : *items)
    if (auto st = set_key(o, key, value); !st) return Status::usage("--prune '" + spec + "': " + st.message());
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
