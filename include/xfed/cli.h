// xfed's command line as a library call. A program that registers its own models or
// aggregators and then hands its arguments to run_command_line is the `xfed` command with
// them built in: `prog simulate …`, `mpirun -np N prog mpi …`, `prog coordinator …` and
// `prog worker …` all know them, so a registration reaches every process of every
// transport (each process of a run is started from the same program, and the processes
// compare what they registered before round 1). No torch here.
//   int run_command_line(int argc, char** argv);
// runs argv as `xfed` would (argv[0] is the program) and returns the exit code: 0 success,
// 1 a run failed, 2 bad usage, configuration or data (one line on stderr). Call it once per
// process, after every registration.
#pragma once

#include "app/command_line.h"

namespace xfed {

using app::run_command_line;

}  // namespace xfed
