#include "app/keygen_command.h"

#include <cstdio>

#include "core/check.h"
#include "core/file_io.h"
#include "transport/zmq/curve_keys.h"

namespace xfed::app {

int keygen_command(const std::string& name) {
  // NAME names the pair: empty, or ending in a folder separator, it would write hidden files
  // (".key", "dir/.pub") nobody asked for.
  const auto slash = name.rfind('/');
  const std::string base = slash == std::string::npos ? name : name.substr(slash + 1);
  if (base.empty() || base == "." || base == "..")
    throw UsageError("--out '" + name + "': expected a file name for the pair (NAME gives NAME.key and NAME.pub)");
  for (const char* ext : {".key", ".pub"})
    if (auto st = check_output_file(name + ext, "--out"); !st) throw UsageError(st.message());
  const auto keys = transport::generate_curve_key_pair().value_or_throw();
  if (auto st = transport::write_key_pair(name, keys); !st) {
    if (st.code() == StatusCode::kUsage) throw UsageError(st.message());
    throw Error(st.message());
  }
  std::printf("wrote %s.key (secret key, mode 0600: keep it on this machine) and %s.pub\npublic key: %s\n",
              name.c_str(), name.c_str(), keys.public_key.c_str());
  return 0;
}

}  // namespace xfed::app
