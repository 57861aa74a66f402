#include "core/models/torchscript.h"

#include <torch/script.h>

#include <algorithm>
#include <mutex>
#include <optional>
#include <sstream>

#include "core/channels_last.h"
#include "core/check.h"
#include "core/log.h"
#include "core/models/torchscript_chain.h"

namespace xfed {
namespace {

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

std::string shape_text(at::IntArrayRef sizes) {
  std::string s;
  for (auto d : sizes) s += (s.empty() ? "" : "x") + std::to_string(d);
  return s.empty() ? "a scalar" : s;
}

std::string state_name(std::string name) {
  std::replace(name.begin(), name.end(), '.', '_');
  return name;
}

class TorchScriptNetImpl : public NetImpl {
 public:
  // A spec with widths is a pruned model: the archive's prunable layers narrowed to them
  // (their values are the surgery's to write).
  TorchScriptNetImpl(const ModelSpec& spec, const std::string& archive) : NetImpl(spec) {
    std::istringstream in(archive);
    module_ = torch::jit::load(in);
    chain_ = scripted_chain(module_);
    pruning_ = chain_pruning(chain_, module_);
    if (!spec.widths.empty()) {
      XFED_CHECK(pruning_.blocker.empty(),
                 "a pruned spec for a TorchScript model that is not prunable: " + pruning_.blocker);
      narrow_chain(module_, pruning_, spec.widths);
      pruning_.units = spec.widths;
    }
    for (const auto& p : module_.named_parameters(/*recurse=*/true))
      register_parameter(state_name(p.name), p.value, p.value.requires_grad());
    for (const auto& b : module_.named_buffers(/*recurse=*/true)) register_buffer(state_name(b.name), b.value);
  }
  at::Tensor forward_features(const at::Tensor& x, std::vector<at::Tensor>* taps) override {
    if (!taps || !pruning_.blocker.empty()) return module_.forward({x}).toTensor();
    const auto every = every_output(x);
    for (auto t : pruning_.tap) taps->push_back(every.at(t));
    return every.back();
  }
  void train(bool on) override {
    NetImpl::train(on);
    module_.train(on);
  }
  std::vector<PrunableLayer> prunable_layers() const override {
    if (!pruning_.blocker.empty()) return {};
    std::vector<PrunableLayer> out;
    for (size_t i = 0; i < pruning_.units.size(); ++i) out.push_back({pruning_.layer_modules[i], pruning_.units[i]});
    return out;
  }
  std::vector<AxisBinding> axis_bindings() const override {
    std::vector<AxisBinding> out;
    if (!pruning_.blocker.empty()) return out;
    for (const auto& b : pruning_.bindings) out.push_back({state_name(b.tensor), b.dim, b.layer, b.block});
    return out;
  }
  ModelSpec spec_after(const std::vector<std::vector<int64_t>>& kept) const override {
    ModelSpec s = spec();
    XFED_CHECK_EQ(kept.size(), pruning_.units.size(), "spec_after: one kept list per layer");
    s.widths.clear();
    for (const auto& k : kept) s.widths.push_back(static_cast<int64_t>(k.size()));
    return s;
  }
  // Linear and Conv2d multiply-adds x 2 per sample, from the layers' output shapes on a batch
  // of zeros in eval mode (the model's state is left as it was); 0 if not a chain.
  int64_t flops() const override;
  bool draws_random_numbers() const override { return chain_.draws_random_numbers; }
  // Probed once per model (core/channels_last.h): a scripted CNN trains and evaluates on the
  // NHWC kernels where its forward computes the same there.
  bool runs_channels_last() const override;

  torch::jit::Module& module() { return module_; }
  const ScriptedChain& chain() const { return chain_; }
  const ChainPruning& pruning() const { return pruning_; }

 private:
  std::vector<at::Tensor> every_output(const at::Tensor& x) const {
    torch::jit::Stack stack{module_._ivalue(), x};
    chain_.every_output->run(stack);
    std::vector<at::Tensor> out;
    for (const auto& v : stack.back().toTupleRef().elements()) out.push_back(v.toTensor());
    return out;
  }

  torch::jit::Module module_;
  ScriptedChain chain_;
  ChainPruning pruning_;
  mutable int64_t flops_ = -1;
  mutable std::optional<bool> channels_last_;
};

bool TorchScriptNetImpl::runs_channels_last() const {
  if (channels_last_) return *channels_last_;
  const auto params = parameters();
  const bool convolutions = std::any_of(params.begin(), params.end(), [](const at::Tensor& p) { return p.dim() == 4; });
  channels_last_ = convolutions && forward_agrees_channels_last(const_cast<TorchScriptNetImpl&>(*this));
  static std::once_flag said;
  if (convolutions && !*channels_last_)
    std::call_once(said, [] {
      log_info("TorchScript model: its forward does not compute the same with channels-last convolution weights "
               "(e.g. a .view() of an activation): it trains on LibTorch's NCHW kernels");
    });
  return *channels_last_;
}

int64_t TorchScriptNetImpl::flops() const {
  if (flops_ >= 0) return flops_;
  flops_ = 0;
  if (!chain_.is_chain()) return flops_;
  const bool training = module_.is_training();
  auto& module = const_cast<torch::jit::Module&>(module_);  // eval() for the probe, then back
  module.eval();
  try {
    torch::NoGradGuard no_grad;
    const auto& s = spec();
    const auto every = every_output(at::zeros({2, s.in_channels, s.height, s.width}));
    const auto params = named_parameters(/*recurse=*/true);
    for (size_t i = 0; i < chain_.layers.size(); ++i) {
      const auto& l = chain_.layers[i];
      if (l.kind != ChainLayer::Kind::kLinear && l.kind != ChainLayer::Kind::kConv2d) continue;
      const auto* w = params.find(state_name(l.module + ".weight"));
      if (w) flops_ += 2 * (w->numel() / w->size(0)) * (every[i].numel() / 2);  // a dot product per output value
    }
  } catch (const std::exception&) {
    flops_ = 0;
  }
  module.train(training);
  return flops_;
}

struct Registered {
  std::mutex mu;
  bool family = false;
  std::shared_ptr<const std::string> archive;
};

Registered& registered() {
  static Registered r;
  return r;
}

}  // namespace

Status register_torchscript_family() {
  auto& r = registered();
  std::lock_guard<std::mutex> lock(r.mu);
  if (r.family) return Status::ok();
  auto st = register_model(kTorchScriptFamily, [](const ModelSpec& spec) -> Net {
    const auto archive = torchscript_archive();
    XFED_CHECK(archive != nullptr, "no TorchScript archive yet (a worker gets it from its coordinator with "
                                   "the first model)");
    return std::make_shared<TorchScriptNetImpl>(spec, *archive);
  });
  r.family = static_cast<bool>(st);
  return st;
}

Status set_torchscript_archive(std::shared_ptr<const std::string> archive, const std::string& source) {
  auto& r = registered();
  std::lock_guard<std::mutex> lock(r.mu);
  if (archive->size() > kMaxTorchScriptBytes)
    return Status::usage(source + ": " + std::to_string(archive->size()) + " bytes, more than the " +
                         std::to_string(kMaxTorchScriptBytes >> 20) + " MiB a TorchScript archive may have");
  if (r.archive) {
    if (*r.archive == *archive) return Status::ok();
    return Status::usage(source + ": this process runs another TorchScript archive already");
  }
  r.archive = std::move(archive);
  return Status::ok();
}

std::shared_ptr<const std::string> torchscript_archive() {
  auto& r = registered();
  std::lock_guard<std::mutex> lock(r.mu);
  return r.archive;
}

Status check_torchscript_model(const ModelSpec& spec, const std::string& source) {
  const auto archive = torchscript_archive();
  if (!archive) return Status::usage(source + ": no TorchScript archive registered");
  std::unique_ptr<TorchScriptNetImpl> net;
  try {
    net = std::make_unique<TorchScriptNetImpl>(spec, *archive);
  } catch (const std::exception& e) {
    return Status::usage(source + ": not a TorchScript archive (" + first_line(e.what()) + ")");
  }
  if (!net->module().find_method("forward"))
    return Status::usage(source + ": the module has no forward method");
  for (const auto& item : net->named_parameters(true))
    if (!at::isfinite(item.value()).all().item<bool>())
      return Status::usage(source + ": weight " + item.key() + " is not finite");
  const auto input = at::zeros({2, spec.in_channels, spec.height, spec.width});
  const std::string where = "its forward on a batch of shape " + shape_text(input.sizes());
  try {
    torch::NoGradGuard no_grad;
    net->eval();
    const auto out = net->module().forward({input});
    if (!out.isTensor()) return Status::usage(source + ": " + where + " returns " + out.tagKind() + ", not a tensor");
    const auto t = out.toTensor();
    if (t.dim() != 2 || t.size(0) != 2 || t.size(1) != spec.classes || !t.is_floating_point())
      return Status::usage(source + ": " + where + " returns " + shape_text(t.sizes()) + " " +
                           std::string(t.dtype().name()) + ", not float [2, " + std::to_string(spec.classes) +
                           "] (batch, classes)");
  } catch (const std::exception& e) {
    return Status::usage(source + ": " + where + " fails (" + first_line(e.what()) + ")");
  }
  return Status::ok();
}

bool is_scripted_mlp(const NetImpl& net) {
  const auto* scripted = dynamic_cast<const TorchScriptNetImpl*>(&net);
  if (!scripted || !scripted->chain().is_linear_relu_chain() || !net.buffers().empty()) return false;
  std::vector<std::string> expected;  // the linears' weight and bias, in the order they run
  for (const auto& layer : scripted->chain().layers)
    if (layer.kind == ChainLayer::Kind::kLinear) {
      expected.push_back(state_name(layer.module + ".weight"));
      expected.push_back(state_name(layer.module + ".bias"));
    }
  std::vector<std::string> registered;
  for (const auto& p : net.named_parameters(/*recurse=*/true)) registered.push_back(p.key());
  return registered == expected;
}

std::string scripted_pruning_blocker(const NetImpl& net) {
  const auto* scripted = dynamic_cast<const TorchScriptNetImpl*>(&net);
  return scripted ? scripted->pruning().blocker : "not a TorchScript model";
}

std::string scripted_structure(const NetImpl& net) {
  const auto* scripted = dynamic_cast<const TorchScriptNetImpl*>(&net);
  if (!scripted) return "not a TorchScript model";
  const auto& chain = scripted->chain();
  if (!chain.is_chain()) return "not a chain of known layers: " + chain.blocker;
  std::string text = "a chain of";
  for (const auto& l : chain.layers)
    text += " " + l.op.substr(l.op.find(':') + 2) + (l.module.empty() ? "" : "(" + l.module + ")") + ",";
  text.pop_back();
  text += is_scripted_mlp(net) ? "; the hand-written MLP trainer serves it" : "";
  const auto& pruning = scripted->pruning();
  if (!pruning.blocker.empty()) return text + "; not prunable: " + pruning.blocker;
  text += "; prunable:";
  for (size_t i = 0; i < pruning.units.size(); ++i)
    text += " " + pruning.layer_modules[i] + " (" + std::to_string(pruning.units[i]) + ")";
  return text;
}

Result<std::string> torchscript_archive_with_state(NetImpl& net) {
  auto* scripted = dynamic_cast<TorchScriptNetImpl*>(&net);
  if (!scripted) return Status::error("model " + net.spec().arch + " is not a TorchScript model");
  auto module = scripted->module().clone();  // the clone's tensors are copies: eval() leaves the run alone
  module.eval();
  std::ostringstream out;
  module.save(out);
  return out.str();
}

}  // namespace xfed
