// Saved models (--save-model, `xfed eval --load-model`): one frame of kind saved-model whose
// payload is the model spec (JSON) and the full flat state, uncompressed. Loading rebuilds
// the exact architecture (pruned models included) and checks every size. A TorchScript
// model is saved as a TorchScript archive with its trained weights instead (a zip file that
// torch.jit.load reads; `xfed eval` loads it as --model torchscript:FILE does).
#pragma once

#include <string>

#include "core/coding.h"
#include "core/model.h"
#include "core/status.h"

namespace xfed::coordinator {

constexpr uint64_t kMaxModelFileBytes = uint64_t{4} << 30;

Status save_model_file(const std::string& path, NetImpl& net);
Result<Net> load_model_file(const std::string& path);
// Whether the file is a zip archive (TorchScript's format), not an xfed frame.
bool is_torchscript_file(const std::string& path);
// The same from the file's bytes (`path` names it in errors).
Result<Net> decode_model_file(Bytes bytes, const std::string& path);

}  // namespace xfed::coordinator
