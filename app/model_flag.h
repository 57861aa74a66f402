// The --model flag: a registered family's name, or `torchscript:FILE.pt`, a TorchScript
// archive that this process reads (at most 256 MiB) and registers as the family
// `torchscript` (core/models/torchscript.h). Every process of a run reads its own copy of
// the file; the run identity names the archive by size and CRC-32, not by path, so that
// processes with the same archive at other paths agree and ones with another do not.
#pragma once

#include <string>

namespace xfed::app {

struct ModelChoice {
  std::string arch;      // the family make_spec builds
  std::string identity;  // what the run identity records for --model
  bool scripted = false;
};

// Throws UsageError (one line naming --model and the file) on an unreadable file or one
// over the cap. Idempotent for the same flag value.
ModelChoice resolve_model_flag(const std::string& model);

}  // namespace xfed::app
