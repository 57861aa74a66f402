#include "core/channels_last.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <exception>

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

ChannelsLastScope::ChannelsLastScope(NetImpl& net, bool always) {
  if (!always && !net.runs_channels_last()) return;
  for (auto& p : net.parameters())
    if (p.dim() == 4) {
      store_as(p, at::MemoryFormat::ChannelsLast);
      converted_.push_back(p);
    }
}

ChannelsLastScope::~ChannelsLastScope() {
  for (auto& p : converted_) store_as(p, at::MemoryFormat::Contiguous);
}

bool forward_agrees_channels_last(NetImpl& net) {
  const bool training = net.is_training();
  net.eval();
  torch::NoGradGuard no_grad;
  const auto& s = net.spec();
  auto gen = at::make_generator<at::CPUGeneratorImpl>(1);
  const auto x = at::randn({2, s.in_channels, s.height, s.width}, gen);
  bool agrees = false;
  try {
    const auto nchw = net.forward(x);
    ChannelsLastScope scope(net, /*always=*/true);
    if (scope.active()) {
      const auto nhwc = net.forward(x);
      const double scale = nchw.abs().max().item<double>();
      agrees = nhwc.sizes() == nchw.sizes() && (nhwc - nchw).abs().max().item<double>() <= 1e-3 * scale + 1e-30;
    }
  } catch (const std::exception&) {  // c10::Error, or the TorchScript interpreter's error
    agrees = false;
  }
  net.train(training);
  return agrees;
}

}  // namespace xfed
