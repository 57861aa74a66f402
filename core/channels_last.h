// Channels-last convolutions: while a ChannelsLastScope lives, a model's 4-D parameters (its
// convolution weights, and their gradients) are stored NHWC, which makes LibTorch run its
// convolutions and 2x2 max pooling on oneDNN's channels-last kernels — on LeNet-5 a training
// step 1.7x faster and an evaluation 1.8x faster than the NCHW kernels (one core, batch 64;
// #21). Every value keeps its logical index: only the memory order changes, so the model's
// state, checkpoints and frames read the same, and the scope puts the parameters back to
// NCHW when it ends (also when the forward throws). The float operations of a convolution
// are ordered differently on the two layouts, so results differ by float32 rounding.
//
// Only for families whose forward is written for any layout (NetImpl::runs_channels_last:
// the built-in CNNs, and TorchScript models whose forward passes the probe below; a forward
// that calls .view() on an activation would fail); with no 4-D parameter, or for other
// families, the scope does nothing.
#pragma once

#include <ATen/core/Tensor.h>

#include <vector>

namespace xfed {

class NetImpl;

class ChannelsLastScope {
 public:
  // `always`: convert whatever the family says (forward_agrees_channels_last's probe).
  explicit ChannelsLastScope(NetImpl& net, bool always = false);
  ~ChannelsLastScope();
  ChannelsLastScope(const ChannelsLastScope&) = delete;
  ChannelsLastScope& operator=(const ChannelsLastScope&) = delete;

  bool active() const { return !converted_.empty(); }

 private:
  std::vector<at::Tensor> converted_;
};

// Whether `net`'s forward computes what it computes on NCHW weights when its 4-D parameters
// are stored channels-last: one forward of a probe batch (random inputs of the spec's shape
// from a private generator, eval mode, no gradients, the model's state untouched) on each
// layout, equal within 1e-3 of the outputs' largest magnitude (float32 rounding is far
// below; a forward that reads memory by its order is far above). False when the
// channels-last forward throws (a .view() of an activation) or the net has no 4-D
// parameter. For models whose code xfed did not write (TorchScript).
bool forward_agrees_channels_last(NetImpl& net);

}  // namespace xfed
