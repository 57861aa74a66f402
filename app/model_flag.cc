#include "app/model_flag.h"

#include <cstdio>
#include <map>
#include <memory>
#include <mutex>

#include "core/check.h"
#include "core/coding.h"
#include "core/file_io.h"
#include "core/models/torchscript.h"

namespace xfed::app {
namespace {

constexpr const char* kPrefix = "torchscript:";

ModelChoice load_archive(const std::string& model) {
  const std::string path = model.substr(std::string(kPrefix).size());
  const std::string flag = "--model " + model;
  if (path.empty()) throw UsageError(flag + ": expected torchscript:FILE.pt");
  auto bytes = read_file_bytes(path, kMaxTorchScriptBytes);
  if (!bytes) throw UsageError(flag + ": " + bytes.message());
  char crc[16];
  std::snprintf(crc, sizeof crc, "%08x", crc32_of(bytes.value().data(), bytes.value().size()));
  auto archive = std::make_shared<const std::string>(bytes.value().begin(), bytes.value().end());
  if (auto st = register_torchscript_family(archive, flag); !st) throw UsageError(st.message());
  return {kTorchScriptFamily, std::string(kPrefix) + std::to_string(archive->size()) + " bytes, crc32 " + crc, true};
}

}  // namespace

ModelChoice resolve_model_flag(const std::string& model) {
  if (model.rfind(kPrefix, 0) != 0) return {model, model, false};
  static std::mutex mu;
  static std::map<std::string, ModelChoice> resolved;
  std::lock_guard<std::mutex> lock(mu);
  if (const auto it = resolved.find(model); it != resolved.end()) return it->second;
  return resolved[model] = load_archive(model);
}

}  // namespace xfed::app
