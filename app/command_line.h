// The xfed command line (simulate | mpi | coordinator | worker | eval | di-score | keygen) as
// a function: the stock binary's main calls it, and so does a user's program after its
// registrations (include/xfed/cli.h), so that those reach every process of a run.
#pragma once

namespace xfed::app {

// Exit codes: 0 success, 1 a run failed, 2 bad usage / config / data (one line on stderr).
int run_command_line(int argc, char** argv);

}  // namespace xfed::app
