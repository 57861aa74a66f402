#include "core/registry.h"

namespace xfed {

Status check_registry_name(const std::string& kind, const std::string& name) {
  const bool ok = !name.empty() && name.size() <= 64 && name[0] >= 'a' && name[0] <= 'z' &&
                  name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_.-") == std::string::npos;
  if (ok) return Status::ok();
  return Status::usage("register " + kind + " '" + name +
                       "': a name is 1-64 characters of a-z, 0-9, '_', '.', '-', starting with a letter");
}

}  // namespace xfed
