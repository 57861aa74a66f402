// Models for devices (#20): `xfed export` writes a saved model as an .xdc file (weights
// optionally shared, per layer dense/CSR/CER/CSER with entropy-coded indices; deploy/) and
// prints a table per layer; `xfed eval --load-model M.xdc` computes a test set's accuracy
// from the file's formats, never expanding them to dense (deploy/compact_inference.h).
#pragma once

#include <string>

#include "app/commands.h"

namespace xfed::app {

struct ExportConfig {
  std::string model_file;
  std::string out;
  std::string format = "auto";
  int bits = 0;  // 0: the weights as they are
};
int export_command(const ExportConfig& config);

// `xfed eval` of an .xdc file (eval_command hands it over).
int eval_compact_command(const EvalConfig& config);

}  // namespace xfed::app
