#include "core/model_spec.h"

#include <nlohmann/json.hpp>

#include "core/registry.h"

namespace xfed {
namespace {

constexpr int64_t kMaxSide = 4096, kMaxChannels = 1024, kMaxInputs = int64_t{1} << 24;
constexpr int64_t kMaxWidth = 1 << 16, kMaxClasses = 100000;
constexpr double kMaxWeights = double(int64_t{1} << 31);

// An upper bound on the weights of the model (5x5 kernels at most; a conv net's first
// linear layer sees at most last-conv-width x H x W inputs): sizes that could never be
// allocated are refused before LibTorch tries.
double weight_bound(bool conv, int64_t inputs, int64_t height, int64_t width, int64_t classes,
                    const std::vector<int64_t>& widths) {
  double total = double(inputs) * double(widths.front()) * (conv ? 25 : 1);
  for (size_t i = 1; i < widths.size(); ++i)
    total += double(widths[i - 1]) * double(widths[i]) * (conv ? 25 : 1);
  if (conv) total += double(widths.front()) * double(height) * double(width) * double(widths.back());
  return total + double(widths.back()) * double(classes);
}

// An integer field of a spec (a float, a string or an out-of-range number is an error, never
// a conversion).
int64_t int_field(const nlohmann::json& j, const char* key) {
  const auto& v = j.at(key);
  if (!v.is_number_integer() || (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t{1} << 62))
    throw std::invalid_argument(std::string("'") + key + "' is not an integer in range");
  return v.get<int64_t>();
}

std::vector<int64_t> int_list_field(const nlohmann::json& j, const char* key, bool required) {
  std::vector<int64_t> out;
  if (!required && !j.contains(key)) return out;
  const auto& v = j.at(key);
  if (!v.is_array() || v.size() > (1u << 24))
    throw std::invalid_argument(std::string("'") + key + "' is not a list");
  for (const auto& e : v) {
    if (!e.is_number_integer() || (e.is_number_unsigned() && e.get<uint64_t>() > uint64_t{1} << 62))
      throw std::invalid_argument(std::string("'") + key + "' holds a value that is not an integer in range");
    out.push_back(e.get<int64_t>());
  }
  return out;
}

// The four built-in families, added through the same registry as a program's own.
void register_builtin_families(Registry<FamilyRules>& r) {
  r.add("mlp", {{300, 100}, "hidden layer sizes", 1, false}).throw_if_error();
  r.add("lenet5", {{20, 50, 500}, "conv1, conv2 channels and fc1 size", 16, true}).throw_if_error();
  r.add("vgg", {{32, 32, 64, 64, 128, 128, 256}, "six conv widths and fc1 size", 8, true}).throw_if_error();
  r.add("resnet20", {{16, 32, 64, 16, 16, 16, 32, 32, 32, 64, 64, 64},
                     "three stage widths, then the inner width of each of the nine blocks", 8, true})
      .throw_if_error();
}

Registry<FamilyRules>& families() {
  static Registry<FamilyRules> r("model", register_builtin_families);
  return r;
}

Status check_input_shape(const std::string& arch, int64_t in_channels, int64_t height, int64_t width,
                         int64_t classes) {
  if (in_channels < 1 || height < 1 || width < 1 || classes < 2 || in_channels > kMaxChannels ||
      height > kMaxSide || width > kMaxSide || classes > kMaxClasses ||
      in_channels * height * width > kMaxInputs)
    return Status::usage("model " + arch + ": input " + std::to_string(in_channels) + "x" +
                         std::to_string(height) + "x" + std::to_string(width) + " with " +
                         std::to_string(classes) + " classes is out of range (at most " +
                         std::to_string(kMaxInputs) + " inputs, 2 to " +
                         std::to_string(kMaxClasses) + " classes)");
  return Status::ok();
}

Status check_widths(const std::string& arch, const std::vector<int64_t>& widths) {
  for (auto w : widths)
    if (w < 1 || w > kMaxWidth)
      return Status::usage("--widths for " + arch + ": every width must be in [1, " +
                           std::to_string(kMaxWidth) + "]");
  return Status::ok();
}

}  // namespace

std::string ModelSpec::to_json() const {
  nlohmann::json j{{"arch", arch},       {"in_channels", in_channels}, {"height", height},
                   {"width", width},     {"classes", classes},         {"widths", widths},
                   {"input_kept", input_kept}};
  return j.dump();
}

Result<ModelSpec> ModelSpec::from_json(const std::string& text) {
  try {
    const auto j = nlohmann::json::parse(text);
    ModelSpec s;
    s.arch = j.at("arch").get<std::string>();
    s.in_channels = int_field(j, "in_channels");
    s.height = int_field(j, "height");
    s.width = int_field(j, "width");
    s.classes = int_field(j, "classes");
    s.widths = int_list_field(j, "widths", true);
    s.input_kept = int_list_field(j, "input_kept", false);
    auto checked = make_spec(s.arch, s.in_channels, s.height, s.width, s.classes, s.widths);
    if (!checked) return checked.status();
    const int64_t inputs = s.in_channels * s.height * s.width;
    for (size_t i = 0; i < s.input_kept.size(); ++i)
      if (s.input_kept[i] < 0 || s.input_kept[i] >= inputs ||
          (i > 0 && s.input_kept[i] <= s.input_kept[i - 1]))
        return Status::usage("model spec: input_kept must be increasing indices below " +
                             std::to_string(inputs));
    return s;
  } catch (const std::exception& e) {
    return Status::usage(std::string("model spec: ") + e.what());
  }
}

bool ModelSpec::operator==(const ModelSpec& o) const {
  return arch == o.arch && in_channels == o.in_channels && height == o.height &&
         width == o.width && classes == o.classes && widths == o.widths &&
         input_kept == o.input_kept;
}

Result<ModelSpec> make_spec(const std::string& arch, int64_t in_channels, int64_t height,
                            int64_t width, int64_t classes, std::vector<int64_t> widths) {
  auto found = families().find(arch, "--model");
  if (!found) return found.status();
  const FamilyRules& f = found.value();
  if (widths.empty()) widths = f.default_widths;
  if (!f.default_widths.empty() && widths.size() != f.default_widths.size())
    return Status::usage("--widths for " + arch + ": expected " + std::to_string(f.default_widths.size()) +
                         " values (" + f.widths_meaning + ")");
  if (auto st = check_widths(arch, widths); !st) return st;
  if (auto st = check_input_shape(arch, in_channels, height, width, classes); !st) return st;
  if (!f.default_widths.empty() && weight_bound(f.conv, in_channels * height * width, height, width, classes, widths) > kMaxWeights)
    return Status::usage("model " + arch + ": these widths would need more than 2^31 weights");
  if (height < f.min_side || width < f.min_side)
    return Status::usage("model " + arch + ": needs inputs of at least " + std::to_string(f.min_side) + "x" +
                         std::to_string(f.min_side));
  return ModelSpec{arch, in_channels, height, width, classes, std::move(widths), {}};
}

Status register_family(const std::string& arch, FamilyRules rules) { return families().add(arch, std::move(rules)); }

std::vector<std::string> registered_family_names() { return families().added_names(); }

}  // namespace xfed
