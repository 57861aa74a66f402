#include "core/model.h"

#include "core/check.h"
#include "core/models/lenet5.h"
#include "core/models/mlp.h"
#include "core/models/resnet.h"
#include "core/models/vgg.h"

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

Net make_model(const ModelSpec& spec) {
  if (spec.arch == "mlp") return std::make_shared<MlpImpl>(spec);
  if (spec.arch == "lenet5") return std::make_shared<LeNet5Impl>(spec);
  if (spec.arch == "vgg") return std::make_shared<VggImpl>(spec);
  if (spec.arch == "resnet20") return std::make_shared<ResNet20Impl>(spec);
  throw Error("make_model: unknown arch '" + spec.arch + "'");
}

}  // namespace xfed
