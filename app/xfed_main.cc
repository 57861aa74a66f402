// The stock `xfed` binary: the command line (app/command_line.h) with the built-ins only.
#include "app/command_line.h"

int main(int argc, char** argv) { return xfed::app::run_command_line(argc, argv); }
