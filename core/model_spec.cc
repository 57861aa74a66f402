#include "core/model_spec.h"

#include <mutex>
#include <nlohmann/json.hpp>
#include <set>

namespace xfed {
namespace {

struct ArchInfo {
  const char* name;
  std::vector<int64_t> widths;
  const char* meaning;
};

const std::vector<ArchInfo>& archs() {
  static const std::vector<ArchInfo> kArchs = {
      {"mlp", {300, 100}, "hidden layer sizes"},
      {"lenet5", {20, 50, 500}, "conv1, conv2 channels and fc1 size"},
      {"vgg", {32, 32, 64, 64, 128, 128, 256}, "six conv widths and fc1 size"},
      {"resnet20", {16, 32, 64, 16, 16, 16, 32, 32, 32, 64, 64, 64},
       "three stage widths, then the inner width of each of the nine blocks"},
  };
  return kArchs;
}

constexpr int64_t kMaxSide = 4096, kMaxChannels = 1024, kMaxInputs = int64_t{1} << 24;
constexpr int64_t kMaxWidth = 1 << 16, kMaxClasses = 100000;
constexpr double kMaxWeights = double(int64_t{1} << 31);

// An upper bound on the weights of the model (5x5 kernels at most; a conv net's first
// linear layer sees at most last-conv-width x H x W inputs): sizes that could never be
// allocated are refused before LibTorch tries.
double weight_bound(const std::string& arch, int64_t inputs, int64_t height, int64_t width, int64_t classes,
                    const std::vector<int64_t>& widths) {
  const bool conv = arch != "mlp";
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

std::mutex& registry_mutex() {
  static std::mutex mu;
  return mu;
}

std::set<std::string>& registered_archs() {
  static std::set<std::string> names;
  return names;
}

bool is_built_in(const std::string& arch) {
  for (const auto& a : archs())
    if (arch == a.name) return true;
  return false;
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

std::string arch_names() {
  std::string s;
  for (const auto& a : archs()) s += (s.empty() ? "" : "|") + std::string(a.name);
  std::lock_guard<std::mutex> lock(registry_mutex());
  for (const auto& a : registered_archs()) s += "|" + a;
  return s;
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
  for (const auto& a : archs()) {
    if (arch != a.name) continue;
    if (widths.empty()) widths = a.widths;
    if (widths.size() != a.widths.size())
      return Status::usage("--widths for " + arch + ": expected " +
                           std::to_string(a.widths.size()) + " values (" + a.meaning + ")");
    if (auto st = check_widths(arch, widths); !st) return st;
    if (auto st = check_input_shape(arch, in_channels, height, width, classes); !st) return st;
    if (weight_bound(arch, in_channels * height * width, height, width, classes, widths) > kMaxWeights)
      return Status::usage("model " + arch + ": these widths would need more than 2^31 weights");
    const bool conv = arch != "mlp";
    if (conv && (height < 8 || width < 8))
      return Status::usage("model " + arch + ": needs inputs of at least 8x8");
    if (arch == "lenet5" && (height < 16 || width < 16))
      return Status::usage("model lenet5: needs inputs of at least 16x16");
    return ModelSpec{arch, in_channels, height, width, classes, std::move(widths), {}};
  }
  if (is_registered_arch(arch)) {
    if (auto st = check_widths(arch, widths); !st) return st;
    if (auto st = check_input_shape(arch, in_channels, height, width, classes); !st) return st;
    return ModelSpec{arch, in_channels, height, width, classes, std::move(widths), {}};
  }
  return Status::usage("--model '" + arch + "': expected one of " + arch_names());
}

Status register_arch_name(const std::string& arch) {
  if (arch.empty() || arch.size() > 64 || is_built_in(arch))
    return Status::usage("register_model: '" + arch + "' is empty, too long or a built-in family");
  std::lock_guard<std::mutex> lock(registry_mutex());
  registered_archs().insert(arch);
  return Status::ok();
}

std::vector<std::string> registered_arch_names() {
  std::lock_guard<std::mutex> lock(registry_mutex());
  return {registered_archs().begin(), registered_archs().end()};
}

bool is_registered_arch(const std::string& arch) {
  std::lock_guard<std::mutex> lock(registry_mutex());
  return registered_archs().count(arch) > 0;
}

}  // namespace xfed
