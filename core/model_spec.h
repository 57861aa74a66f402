// ModelSpec: the architecture of a model as plain data — family, input shape, class count
// and the width of every prunable layer. Every party builds the same model from the same
// spec; a structure change (pruning) is a new spec plus sliced weights. Sent inside model
// frames (as JSON) and saved with exported models. No torch here.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace xfed {

struct ModelSpec {
  std::string arch;                // mlp | lenet5 | vgg | resnet20 | a registered family
  int64_t in_channels = 1;
  int64_t height = 28;
  int64_t width = 28;
  int64_t classes = 10;
  std::vector<int64_t> widths;     // per prunable layer, meaning per arch (model_zoo.h)
  std::vector<int64_t> input_kept; // mlp: kept input features (sorted); empty = all

  std::string to_json() const;
  static Result<ModelSpec> from_json(const std::string& text);
  bool operator==(const ModelSpec& o) const;
  bool operator!=(const ModelSpec& o) const { return !(*this == o); }
};

// The default spec of an architecture for inputs of the given shape; `widths` empty means
// the family's standard widths. Bad arch or widths -> a Status naming --model / --widths.
Result<ModelSpec> make_spec(const std::string& arch, int64_t in_channels, int64_t height,
                            int64_t width, int64_t classes, std::vector<int64_t> widths = {});

// A family defined by a program that uses xfed as a library (register_model in core/model.h):
// make_spec and from_json accept its name; its widths (any number, each in [1, 65536]) mean
// what its factory makes of them. Built-in names cannot be registered. Thread-safe.
Status register_arch_name(const std::string& arch);
bool is_registered_arch(const std::string& arch);
// The registered families' names, sorted.
std::vector<std::string> registered_arch_names();

}  // namespace xfed
