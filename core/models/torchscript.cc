#include "core/models/torchscript.h"

#include <torch/script.h>

#include <algorithm>
#include <mutex>
#include <sstream>

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
  }
  at::Tensor forward_features(const at::Tensor& x, std::vector<at::Tensor>*) override {
    return module_.forward({x}).toTensor();
  }
  void train(bool on) override {
    NetImpl::train(on);
    module_.train(on);
  }
  torch::jit::Module& module() { return module_; }

 private:
  torch::jit::Module module_;
};

struct Registered {
  std::mutex mu;
  std::shared_ptr<const std::string> archive;
};

Registered& registered() {
  static Registered r;
  return r;
}

}  // namespace

Status register_torchscript_family(std::shared_ptr<const std::string> archive, const std::string& source) {
  auto& r = registered();
  std::lock_guard<std::mutex> lock(r.mu);
  if (r.archive) {
    if (*r.archive == *archive) return Status::ok();
    return Status::usage(source + ": this process runs another TorchScript archive already");
  }
  auto st = register_model(kTorchScriptFamily, [archive](const ModelSpec& spec) -> Net {
    return std::make_shared<TorchScriptNetImpl>(spec, *archive);
  });
  if (!st) return st;
  r.archive = std::move(archive);
  return Status::ok();
}

Status check_torchscript_model(const ModelSpec& spec, const std::string& source) {
  std::shared_ptr<const std::string> archive;
  {
    auto& r = registered();
    std::lock_guard<std::mutex> lock(r.mu);
    archive = r.archive;
  }
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

}  // namespace xfed
