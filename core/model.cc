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

Net make_model(const ModelSpec& spec) {
  if (spec.arch == "mlp") return std::make_shared<MlpImpl>(spec);
  if (spec.arch == "lenet5") return std::make_shared<LeNet5Impl>(spec);
  if (spec.arch == "vgg") return std::make_shared<VggImpl>(spec);
  if (spec.arch == "resnet20") return std::make_shared<ResNet20Impl>(spec);
  throw Error("make_model: unknown arch '" + spec.arch + "'");
}

}  // namespace xfed
