// libFuzzer target: --config files (TOML, or JSON when the first byte is odd), expanded into
// the simulate command's flags and parsed. Usage errors are the expected outcome; anything
// else escaping is a finding.
#include <CLI/CLI.hpp>

#include "app/cli_flags.h"
#include "core/check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace xfed;
  if (size == 0) return 0;
  // One command line, cleared between inputs (building it costs more than a parse).
  static app::RunConfig config;
  static CLI::App app{"fuzz"};
  static CLI::App* simulate = [] {
    app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    auto* s = app.add_subcommand("simulate");
    app::add_run_flags(s, &config);
    return s;
  }();
  app.clear();
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    auto args = app::expand_config_text({"xfed", "simulate"}, text, data[0] & 1 ? "f.json" : "f.toml", *simulate);
    std::vector<std::string> reversed(args.rbegin(), args.rend() - 1);
    app.parse(reversed);
  } catch (const UsageError&) {
  } catch (const CLI::ParseError&) {
  }
  return 0;
}
