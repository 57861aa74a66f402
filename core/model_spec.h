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

// What make_spec checks of a family, registered by name with register_family (a program's
// families through register_model, core/model.h; the four built-ins the same way):
struct FamilyRules {
  std::vector<int64_t> default_widths;  // the family's standard widths; empty: any number, as given
  std::string widths_meaning;           // for --widths errors ("hidden layer sizes")
  int64_t min_side = 1;                 // the smallest input height and width it takes
  bool conv = false;                    // convolutions (5x5 at most) before a linear head: the
                                        // weight bound that refuses sizes no one could allocate
  explicit operator bool() const { return true; }  // a registry entry is always usable
};
// Refuses a taken or malformed name; make_spec and from_json accept it from then on.
// Widths are each in [1, 65536] for every family. Thread-safe.
Status register_family(const std::string& arch, FamilyRules rules);
// The families the program registered, not built in (sorted).
std::vector<std::string> registered_family_names();

}  // namespace xfed
