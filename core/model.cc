#include "core/model.h"

#include <map>
#include <mutex>

#include "core/check.h"
#include "core/models/lenet5.h"
#include "core/models/mlp.h"
#include "core/models/resnet.h"
#include "core/models/vgg.h"
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

std::mutex& factories_mutex() {
  static std::mutex mu;
  return mu;
}

std::map<std::string, ModelFactory>& factories() {
  static std::map<std::string, ModelFactory> f;
  return f;
}

}  // namespace

Status register_model(const std::string& arch, ModelFactory factory) {
  if (!factory) return Status::error("register_model: no factory for '" + arch + "'");
  if (auto st = register_arch_name(arch); !st) return st;
  std::lock_guard<std::mutex> lock(factories_mutex());
  factories()[arch] = std::move(factory);
  return Status::ok();
}

namespace {

// Every model built in this process draws its initial weights from LibTorch's global
// generator: one lock for all of them, so that a seeded build is never interleaved.
std::mutex& global_generator_mutex() {
  static std::mutex m;
  return m;
}

Net build_model(const ModelSpec& spec) {
  if (spec.arch == "mlp") return std::make_shared<MlpImpl>(spec);
  if (spec.arch == "lenet5") return std::make_shared<LeNet5Impl>(spec);
  if (spec.arch == "vgg") return std::make_shared<VggImpl>(spec);
  if (spec.arch == "resnet20") return std::make_shared<ResNet20Impl>(spec);
  ModelFactory factory;
  {
    std::lock_guard<std::mutex> lock(factories_mutex());
    const auto it = factories().find(spec.arch);
    if (it != factories().end()) factory = it->second;
  }
  if (!factory) throw Error("make_model: unknown arch '" + spec.arch + "'");
  auto net = factory(spec);
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
