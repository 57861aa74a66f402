// Command-line flags: registers RunConfig's fields on a CLI11 (sub)command, and expands a
// --config file (TOML or JSON, keys = flag names) into flags placed before the user's, so
// that flags given on the command line override the file. Unknown keys and bad values are
// UsageErrors naming the file and key.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "app/edge_config.h"
#include "app/run_config.h"

namespace xfed::app {

void add_run_flags(CLI::App* app, RunConfig* config);
// --attack, the attack bench: simulate and mpi only (an edge run has real clients).
void add_attack_flag(CLI::App* app, RunConfig* config);
// Validators for numbers from outside: finite and in range, or a message naming the value
// (CLI11's own compare with < and >, which NaN passes).
CLI::Validator number_in(double lo, double hi, bool lo_open = false);
CLI::Validator whole_in(int64_t lo, int64_t hi);
// The edge flags of `xfed coordinator` (coordinator = true) or `xfed worker`.
void add_edge_flags(CLI::App* app, EdgeConfig* config, bool coordinator);
// Only the dataset flags (for `xfed eval`).
void add_data_flags(CLI::App* app, RunConfig* config);

// argv with the --config file's settings inserted right after the subcommand name
// (argv[1]). Throws UsageError for unreadable files, bad syntax or unknown keys.
std::vector<std::string> expand_config_file(const std::vector<std::string>& argv,
                                            const CLI::App& subcommand);
// The same with the file's text given (`path`: its name, ".json" picks JSON over TOML).
std::vector<std::string> expand_config_text(const std::vector<std::string>& argv, const std::string& text,
                                            const std::string& path, const CLI::App& subcommand);

}  // namespace xfed::app
