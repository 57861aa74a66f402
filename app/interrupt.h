// Interrupts of a role that can end cleanly (the coordinator: Ctrl-C, SIGTERM). catch_interrupts
// blocks SIGINT and SIGTERM in the calling thread, so in every thread started after it, and
// takes them in one watcher thread: the first is recorded and logged (the role polls
// interrupted() and ends its run, telling its workers), a second ends the process at once
// (exit 128 + signal). Call it before any other thread starts.
#pragma once

namespace xfed::app {

void catch_interrupts();
// The signal that interrupted the process, or 0.
int interrupted();

}  // namespace xfed::app
