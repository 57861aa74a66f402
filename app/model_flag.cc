#include "app/model_flag.h"

#include <map>
#include <memory>
#include <mutex>

#include "core/check.h"
#include "core/crypto.h"
#include "core/file_io.h"
#include "core/models/torchscript.h"

namespace xfed::app {
namespace {

constexpr const char* kFamily = "torchscript";
constexpr const char* kPrefix = "torchscript:";

std::string identity_of(const std::string& sha256_hex) {
  return std::string(kFamily) + " sha256=" + (sha256_hex.empty() ? "*" : sha256_hex);
}

// The lower-case hex of --model-sha256, "" when not given.
std::string pinned_hash(const RunConfig& c, bool scripted) {
  if (c.model_sha256.empty()) return "";
  const std::string flag = "--model-sha256 '" + c.model_sha256 + "'";
  if (!scripted) throw UsageError(flag + ": pins a TorchScript archive, but --model is '" + c.model + "'");
  const auto digest = sha256_of_hex(c.model_sha256);
  if (!digest) throw UsageError(flag + ": expected the archive's SHA-256, 64 hex digits (sha256sum FILE.pt)");
  return hex_of(*digest);
}

Status check_pin(const std::string& pinned, const std::string& got, const std::string& source) {
  if (pinned.empty() || pinned == got) return Status::ok();
  return Status::usage(source + ": the archive's SHA-256 is " + got + ", not the " + pinned +
                       " that --model-sha256 pins");
}

// Reads the archive at `path` (at most 256 MiB), checks it against `pinned` (hex, "" for
// none) and makes it this process's TorchScript model. Returns its SHA-256 (hex).
std::string take_archive_file(const std::string& path, const std::string& pinned, const std::string& flag) {
  auto bytes = read_file_bytes(path, kMaxTorchScriptBytes);
  if (!bytes) throw UsageError(flag + ": " + bytes.message());
  auto archive = std::make_shared<const std::string>(bytes.value().begin(), bytes.value().end());
  const std::string hash = hex_of(sha256(*archive));
  check_pin(pinned, hash, flag).throw_as<UsageError>();
  register_torchscript_family().throw_as<UsageError>();
  set_torchscript_archive(std::move(archive), flag).throw_as<UsageError>();
  return hash;
}

ModelChoice load_archive(const RunConfig& c) {
  const std::string path = c.model.substr(std::string(kPrefix).size());
  const std::string flag = "--model " + c.model;
  if (path.empty()) throw UsageError(flag + ": expected torchscript:FILE.pt");
  ModelChoice choice{kTorchScriptFamily, "", true, false, pinned_hash(c, true)};
  choice.identity = identity_of(take_archive_file(path, choice.pinned_sha256, flag));
  return choice;
}

ModelChoice resolve(const RunConfig& c) {
  if (c.model == kFamily) {  // the coordinator's archive, when it comes
    register_torchscript_family().throw_as<UsageError>();
    ModelChoice choice{kTorchScriptFamily, "", true, true, pinned_hash(c, true)};
    choice.identity = identity_of(choice.pinned_sha256);
    return choice;
  }
  if (c.model.rfind(kPrefix, 0) == 0) return load_archive(c);
  return {c.model, c.model, false, false, pinned_hash(c, false)};
}

}  // namespace

ModelChoice resolve_model_flag(const RunConfig& c) {
  static std::mutex mu;
  static std::map<std::pair<std::string, std::string>, ModelChoice> resolved;
  std::lock_guard<std::mutex> lock(mu);
  const auto key = std::make_pair(c.model, c.model_sha256);
  if (const auto it = resolved.find(key); it != resolved.end()) return it->second;
  return resolved[key] = resolve(c);
}

Net load_saved_torchscript(const std::string& path, const Dataset& data) {
  const std::string flag = "--load-model " + path;
  take_archive_file(path, "", flag);
  const auto spec = make_spec(kTorchScriptFamily, data.channels(), data.height(), data.width(), data.classes)
                        .value_or_throw<UsageError>();
  check_torchscript_model(spec, flag).throw_as<UsageError>();
  return make_model(spec);
}

Status accept_model_code(const ModelChoice& model, std::shared_ptr<const std::string> archive,
                         const std::string& source) {
  if (!model.scripted) return Status::usage(source + ": this worker runs --model '" + model.arch + "', not TorchScript");
  if (auto st = check_pin(model.pinned_sha256, hex_of(sha256(*archive)), source); !st) return st;
  return set_torchscript_archive(std::move(archive), source);
}

}  // namespace xfed::app
