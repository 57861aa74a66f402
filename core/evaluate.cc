#include "core/evaluate.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>
#include <torch/nn/functional/loss.h>

#include <algorithm>
#include <vector>

#include "core/channels_last.h"

namespace xfed {

int64_t eval_batch(NetImpl& net, const Dataset& data) {
  if (data.size() == 0) return 1;
  torch::NoGradGuard no_grad;
  const bool training = net.is_training();
  net.eval();
  const auto one = data.images.narrow(0, 0, 1);
  std::vector<at::Tensor> taps;
  int64_t largest = std::max<int64_t>(one.numel(), net.forward_features(one, &taps).numel());
  for (const auto& t : taps) largest = std::max<int64_t>(largest, t.numel());
  net.train(training);
  const int64_t bytes = largest * static_cast<int64_t>(sizeof(float));
  return std::clamp<int64_t>(kEvalBatchBytes / bytes, 8, 1000);
}

EvalResult evaluate(NetImpl& net, const Dataset& data, int64_t batch) {
  if (batch <= 0) batch = eval_batch(net, data);
  torch::NoGradGuard no_grad;
  net.eval();
  ChannelsLastScope channels_last(net);
  const int64_t n = data.size();
  double loss_sum = 0;
  int64_t correct = 0;
  for (int64_t start = 0; start < n; start += batch) {
    const int64_t len = std::min<int64_t>(batch, n - start);
    const auto logits = net.forward(data.images.narrow(0, start, len));
    const auto y = data.labels.narrow(0, start, len);
    loss_sum += torch::nn::functional::cross_entropy(
                    logits, y, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
                    .item<double>();
    correct += logits.argmax(1).eq(y).sum().item<int64_t>();
  }
  net.train();
  return n ? EvalResult{loss_sum / n, static_cast<double>(correct) / n} : EvalResult{};
}

}  // namespace xfed
