// The --model flag: a registered family's name, or a TorchScript model (the family
// `torchscript`, core/models/torchscript.h):
//   torchscript:FILE.pt  this process reads the archive (at most 256 MiB);
//   torchscript          an edge worker without the file: it runs the archive its
//                        coordinator sends (protocol::ModelCode) before its first model.
// The run identity names an archive by its SHA-256 ("torchscript sha256=HEX"), not by path,
// so that processes with the same archive at other paths agree and ones with another do
// not; a worker without the file says "torchscript sha256=*" (any archive), or with
// --model-sha256 H the hash it pins, and refuses any other archive it is sent.
#pragma once

#include <memory>
#include <string>

#include "app/run_config.h"
#include "core/dataset.h"
#include "core/model.h"
#include "core/status.h"

namespace xfed::app {

struct ModelChoice {
  std::string arch;      // the family make_spec builds
  std::string identity;  // what the run identity records for --model
  bool scripted = false;
  bool from_coordinator = false;  // `torchscript` without a file: the archive comes later
  std::string pinned_sha256;      // --model-sha256, lower-case hex ("" when not given)
};

// Throws UsageError (one line naming --model or --model-sha256 and the file) on an
// unreadable file, one over the cap, a malformed pin, or an archive other than the pinned
// one. Idempotent for the same flags.
ModelChoice resolve_model_flag(const RunConfig& config);

// A TorchScript model that --save-model wrote (the archive with its trained weights), for
// `xfed eval` on `data`: the same checks as --model torchscript:FILE, naming --load-model.
Net load_saved_torchscript(const std::string& path, const Dataset& data);

// A worker's check of the archive its coordinator sent: the pinned hash (if any), then this
// process takes it as its TorchScript archive. One line naming `source` when refused.
Status accept_model_code(const ModelChoice& model, std::shared_ptr<const std::string> archive,
                         const std::string& source);

}  // namespace xfed::app
