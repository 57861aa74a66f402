#include "core/model.h"

#include <mutex>

#include "core/check.h"
#include "core/models/lenet5.h"
#include "core/models/mlp.h"
#include "core/models/resnet.h"
#include "core/models/vgg.h"
#include "core/registry.h"
#include "core/rng.h"

namespace xfed {

int64_t NetImpl::num_params() const {
  int64_t n = 0;
  for (const auto& p : parameters()) n += p.numel();
  return n;
}

bool NetImpl::has_batchnorm() const {
  for (const auto& b : named_buffers())
    if (b.key().size() >= 12 && b.key().compare(b.key().size() - 12, 12, "running_mean") == 0) return true;
  return false;
}

std::vector<int> NetImpl::tap_layers() const {
  std::vector<int> t(prunable_layers().size());
  for (size_t i = 0; i < t.size(); ++i) t[i] = static_cast<int>(i);
  return t;
}

ModelSpec NetImpl::spec_after(const std::vector<std::vector<int64_t>>& kept) const {
  ModelSpec s = spec_;
  XFED_CHECK_EQ(kept.size(), s.widths.size(), "spec_after: one kept list per layer");
  for (size_t i = 0; i < kept.size(); ++i) s.widths[i] = static_cast<int64_t>(kept[i].size());
  return s;
}

void bind_batchnorm(std::vector<AxisBinding>* b, const std::string& bn, int layer) {
  for (const char* t : {".weight", ".bias", ".running_mean", ".running_var"})
    b->push_back({bn + t, 0, layer});
}

namespace {

template <class Impl>
ModelFactory builtin() {
  return [](const ModelSpec& spec) -> Net { return std::make_shared<Impl>(spec); };
}

// The four built-in families, added through the same registry as a program's own models.
void register_builtin_models(Registry<ModelFactory>& r) {
  r.add("mlp", builtin<MlpImpl>()).throw_if_error();
  r.add("lenet5", builtin<LeNet5Impl>()).throw_if_error();
  r.add("vgg", builtin<VggImpl>()).throw_if_error();
  r.add("resnet20", builtin<ResNet20Impl>()).throw_if_error();
}

Registry<ModelFactory>& models() {
  static Registry<ModelFactory> r("model", register_builtin_models);
  return r;
}

}  // namespace

Status register_model(const std::string& arch, ModelFactory factory, FamilyRules rules) {
  if (!factory) return Status::usage("register model '" + arch + "': no factory");
  if (auto st = register_family(arch, std::move(rules)); !st) return st;  // make_spec accepts it
  return models().add(arch, std::move(factory));
}

std::mutex& global_generator_mutex() {
  static std::mutex m;
  return m;
}

namespace {

Net build_model(const ModelSpec& spec) {
  auto net = models().find(spec.arch, "--model").value_or_throw()(spec);
  XFED_CHECK(net && net->spec() == spec, "register_model: the factory of '" + spec.arch +
                                             "' must build a model of the spec it is given");
  return net;
}

}  // namespace

Net make_model(const ModelSpec& spec) {
  std::lock_guard<std::mutex> lock(global_generator_mutex());
  return build_model(spec);
}

Net make_initial_model(const ModelSpec& spec, uint64_t seed) {
  std::lock_guard<std::mutex> lock(global_generator_mutex());
  torch::manual_seed(mix_seed(seed, kStreamModelInit));
  return build_model(spec);
}

}  // namespace xfed
