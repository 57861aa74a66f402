// The compression-stage registry: names through Registry<StageDef> like every extension
// point, plus the wire's two tables (codec id → stage, task tag → stage) that only stages
// have. Loading the built-ins happens before any id is looked up or taken.
#include <map>
#include <mutex>
#include <utility>

#include "compression/stage.h"
#include "core/registry.h"

namespace xfed::compression {
namespace {

struct WireTables {
  std::mutex mu;
  std::map<uint8_t, StageDef> by_id;
  std::map<std::pair<StageSlot, uint8_t>, StageDef> by_tag;
};

WireTables& wire() {
  static WireTables t;
  return t;
}

Registry<StageDef>& names() {
  static Registry<StageDef> r("compression stage", [](Registry<StageDef>&) { register_builtin_stages(); });
  return r;
}

// Every lookup and user registration first makes sure the built-ins are in.
Registry<StageDef>& loaded_names() {
  auto& r = names();
  (void)r.added_names();
  return r;
}

uint8_t task_tag_of(const StageDef& d) { return d.task_tag.value_or(d.id); }

Status check_def(const StageDef& d) {
  if (auto st = check_registry_name("compression stage", d.name); !st) return st;
  const std::string what = "register compression stage '" + d.name + "': ";
  if (d.name == "zstd" || d.name == "none") return Status::usage(what + "the name is the pipeline's own");
  if (d.id == 0) return Status::usage(what + "codec id 0 means 'no stage'; choose 1..255");
  if (!d)
    return Status::usage(what + "parse, read_descriptor and read_params are all required");
  if (d.usage.empty()) return Status::usage(what + "no usage text");
  return Status::ok();
}

}  // namespace

Status register_stage(StageDef def) {
  auto& r = loaded_names();
  if (auto st = check_def(def); !st) return st;
  auto& t = wire();
  std::lock_guard<std::mutex> lock(t.mu);
  const std::string what = "register compression stage '" + def.name + "': ";
  if (const auto it = t.by_id.find(def.id); it != t.by_id.end())
    return Status::usage(what + "codec id " + std::to_string(def.id) + " is taken by '" + it->second.name + "'");
  const auto tag = std::make_pair(def.slot, task_tag_of(def));
  if (const auto it = t.by_tag.find(tag); it != t.by_tag.end())
    return Status::usage(what + "task tag " + std::to_string(tag.second) + " is taken by '" + it->second.name + "'");
  if (auto st = r.add(def.name, def); !st) return st;
  t.by_tag.emplace(tag, def);
  t.by_id.emplace(def.id, std::move(def));
  return Status::ok();
}

Result<StageDef> find_stage(const std::string& name) { return loaded_names().find(name, "stage"); }

std::optional<StageDef> stage_by_id(uint8_t id) {
  loaded_names();
  auto& t = wire();
  std::lock_guard<std::mutex> lock(t.mu);
  const auto it = t.by_id.find(id);
  if (it == t.by_id.end()) return std::nullopt;
  return it->second;
}

std::optional<StageDef> stage_by_task_tag(StageSlot slot, uint8_t tag) {
  loaded_names();
  auto& t = wire();
  std::lock_guard<std::mutex> lock(t.mu);
  const auto it = t.by_tag.find({slot, tag});
  if (it == t.by_tag.end()) return std::nullopt;
  return it->second;
}

std::string stage_usages(StageSlot slot) {
  loaded_names();
  auto& t = wire();
  std::lock_guard<std::mutex> lock(t.mu);
  std::string out;
  for (const auto& [id, def] : t.by_id)
    if (def.slot == slot) out += (out.empty() ? "" : "|") + def.usage;
  return out;
}

std::vector<std::string> registered_stage_names() { return names().added_names(); }

}  // namespace xfed::compression
