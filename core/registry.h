// Registry<Factory>: one per extension point (models, aggregators, …) — a name to a factory,
// each name once. The built-ins register through the same add() as user code: the
// registry's owner passes a function that adds them when the registry is first used, so a
// built-in is a registration like any other and no static initializer order matters.
// Names: 1–64 characters of [a-z0-9_.-], starting with a letter. Thread-safe.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/status.h"

namespace xfed {

// The name rule of every registry, and the one-line error for a name that breaks it.
Status check_registry_name(const std::string& kind, const std::string& name);

template <class Factory>
class Registry {
 public:
  // `kind` names the extension point in messages ("aggregator"); `builtins` adds the
  // built-in entries with add(), once, before the first lookup or user registration.
  Registry(std::string kind, std::function<void(Registry&)> builtins)
      : kind_(std::move(kind)), builtins_(std::move(builtins)) {}

  // Refuses a bad or taken name and an empty factory.
  Status add(const std::string& name, Factory factory) {
    ensure_loaded();
    return insert(name, std::move(factory));
  }
  // Unknown: a usage error naming `flag` and listing every registered name.
  Result<Factory> find(const std::string& name, const std::string& flag) const {
    ensure_loaded();
    std::lock_guard<std::mutex> lock(mu_);
    const auto it = entries_.find(name);
    if (it == entries_.end())
      return Status::usage(flag + " '" + name + "': no " + kind_ + " of that name (registered: " + names_text() + ")");
    return it->second;
  }
  // The names registered by the program, not built in (sorted).
  std::vector<std::string> added_names() const {
    ensure_loaded();
    std::lock_guard<std::mutex> lock(mu_);
    return {added_.begin(), added_.end()};
  }

 private:
  // The built-ins' own add() calls come back here on the same thread and pass; other
  // threads wait until every built-in is in.
  void ensure_loaded() const {
    std::lock_guard<std::recursive_mutex> lock(load_mu_);
    if (loaded_) return;
    loaded_ = true;
    auto& self = const_cast<Registry&>(*this);
    self.loading_builtins_ = true;
    if (builtins_) builtins_(self);
    self.loading_builtins_ = false;
  }
  Status insert(const std::string& name, Factory factory) {
    if (auto st = check_registry_name(kind_, name); !st) return st;
    if (!factory) return Status::usage("register " + kind_ + " '" + name + "': no factory");
    std::lock_guard<std::mutex> lock(mu_);
    if (!entries_.emplace(name, std::move(factory)).second)
      return Status::usage("register " + kind_ + " '" + name + "': the name is taken (registered: " +
                           names_text() + ")");
    if (!loading_builtins_) added_.insert(name);
    return Status::ok();
  }
  std::string names_text() const {  // under mu_
    std::string out;
    for (const auto& e : entries_) out += (out.empty() ? "" : ", ") + e.first;
    return out;
  }

  std::string kind_;
  std::function<void(Registry&)> builtins_;
  mutable std::recursive_mutex load_mu_;
  mutable bool loaded_ = false;
  mutable std::mutex mu_;
  std::map<std::string, Factory> entries_;
  std::set<std::string> added_;  // by the program
  bool loading_builtins_ = false;  // under load_mu_
};

}  // namespace xfed
