#include "app/output_paths.h"

#include <filesystem>
#include <vector>

#include "core/check.h"
#include "core/file_io.h"

namespace xfed::app {

namespace {

struct OutputFile {
  const char* flag;
  std::string path;  // as given
  std::filesystem::path resolved;
};

std::filesystem::path resolved(const std::string& path) {
  std::error_code ec;
  auto p = std::filesystem::weakly_canonical(std::filesystem::absolute(path, ec), ec);
  return ec ? std::filesystem::path(path).lexically_normal() : p;
}

// The names xfed writes in a checkpoint folder: checkpoint.xfed and clients*.xfed, each with
// its .prev and .tmp.
bool is_checkpoint_name(const std::string& name) {
  return name.rfind("checkpoint.xfed", 0) == 0 || (name.rfind("clients", 0) == 0 && name.find(".xfed") != std::string::npos);
}

// Two outputs that would write one file (a .tmp of one is the other too) are refused, naming
// both flags: one would destroy the other.
void check_outputs_apart(const RunConfig& c) {
  std::vector<OutputFile> files;
  if (!c.metrics.empty()) files.push_back({"--metrics", c.metrics, resolved(c.metrics)});
  if (!c.save_model.empty()) {
    files.push_back({"--save-model", c.save_model, resolved(c.save_model)});
    files.push_back({"--save-model", c.save_model + ".json", resolved(c.save_model + ".json")});
  }
  for (size_t i = 0; i < files.size(); ++i)
    for (size_t j = i + 1; j < files.size(); ++j) {
      const auto& a = files[i].resolved;
      const auto& b = files[j].resolved;
      if (files[i].flag != files[j].flag && (a == b || a.string() + ".tmp" == b.string() || b.string() + ".tmp" == a.string()))
        throw UsageError(std::string(files[i].flag) + " " + files[i].path + " and " + files[j].flag + " " + files[j].path +
                         " write the same file: give them different names");
    }
  if (c.checkpoint_dir.empty()) return;
  const auto dir = resolved(c.checkpoint_dir);
  for (const auto& f : files)
    if (f.resolved.parent_path() == dir && is_checkpoint_name(f.resolved.filename().string()))
      throw UsageError(std::string(f.flag) + " " + f.path + " is a file that --checkpoint-dir " + c.checkpoint_dir +
                       " holds: give it another name or folder");
}

}  // namespace

void check_output_paths(const RunConfig& c) {
  if (!c.metrics.empty()) check_output_file(c.metrics, "--metrics").throw_as<UsageError>();
  if (!c.save_model.empty()) {
    check_output_file(c.save_model, "--save-model").throw_as<UsageError>();
    check_output_file(c.save_model + ".json", "--save-model").throw_as<UsageError>();
  }
  if (!c.checkpoint_dir.empty()) check_output_dir(c.checkpoint_dir, "--checkpoint-dir").throw_as<UsageError>();
  check_outputs_apart(c);
}

}  // namespace xfed::app
