#include "core/channels_last.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include "core/model.h"

namespace xfed {
namespace {

// A copy with the strides of `format`, always: contiguous(format) would keep a tensor whose
// strides merely allow the format (a weight of one input channel), and LibTorch picks a
// convolution's layout from the strides.
at::Tensor copy_as(const at::Tensor& t, at::MemoryFormat format) {
  return at::empty_like(t, t.options(), format).copy_(t);
}

// The parameter (and its gradient, where there is one) stored in `format`.
void store_as(at::Tensor& p, at::MemoryFormat format) {
  torch::NoGradGuard no_grad;
  p.set_data(copy_as(p.data(), format));
  if (p.grad().defined()) p.mutable_grad() = copy_as(p.grad(), format);
}

}  // namespace

ChannelsLastScope::ChannelsLastScope(NetImpl& net) {
  if (!net.runs_channels_last()) return;
  for (auto& p : net.parameters())
    if (p.dim() == 4) {
      store_as(p, at::MemoryFormat::ChannelsLast);
      converted_.push_back(p);
    }
}

ChannelsLastScope::~ChannelsLastScope() {
  for (auto& p : converted_) store_as(p, at::MemoryFormat::Contiguous);
}

}  // namespace xfed
