#include "core/models/torchscript.h"

#include <torch/script.h>

#include <algorithm>
#include <mutex>
#include <sstream>

#include "core/check.h"
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
  TorchScriptNetImpl(const ModelSpec& spec, const std::string& archive) : NetImpl(spec) {
    std::istringstream in(archive);
    module_ = torch::jit::load(in);
    for (const auto& p : module_.named_parameters(/*recurse=*/true))
      register_parameter(state_name(p.name), p.value, p.value.requires_grad());
    for (const auto& b : module_.named_buffers(/*recurse=*/true)) register_buffer(state_name(b.name), b.value);
    chain_ = scripted_chain(module_);
  }
  at::Tensor forward_features(const at::Tensor& x, std::vector<at::Tensor>*) override {
    return module_.forward({x}).toTensor();
  }
  void train(bool on) override {
    NetImpl::train(on);
    module_.train(on);
  }
  torch::jit::Module& module() { return module_; }
  const ScriptedChain& chain() const { return chain_; }

 private:
  torch::jit::Module module_;
  ScriptedChain chain_;
};

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

std::string scripted_structure(const NetImpl& net) {
  const auto* scripted = dynamic_cast<const TorchScriptNetImpl*>(&net);
  if (!scripted) return "not a TorchScript model";
  const auto& chain = scripted->chain();
  if (!chain.is_chain()) return "not a chain of known layers: " + chain.blocker;
  std::string text = "a chain of";
  for (const auto& l : chain.layers) text += " " + l.op.substr(l.op.find(':') + 2) + (l.module.empty() ? "" : "(" + l.module + ")") + ",";
  text.pop_back();
  return text + (is_scripted_mlp(net) ? "; the hand-written MLP trainer serves it" : "");
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
