#include "app/interrupt.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "core/log.h"

namespace xfed::app {
namespace {

std::atomic<int> g_signal{0};

void watch(sigset_t set) {
  while (true) {
    int sig = 0;
    if (sigwait(&set, &sig) != 0) continue;
    if (g_signal.exchange(sig) != 0) _exit(128 + sig);  // asked twice: no more waiting
    log_warning(std::string(sig == SIGINT ? "SIGINT" : "SIGTERM") +
                ": stopping the run (the workers are told; again to quit at once)");
  }
}

}  // namespace

void catch_interrupts() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  if (pthread_sigmask(SIG_BLOCK, &set, nullptr) != 0) return;  // then the default: the process ends
  std::thread(watch, set).detach();
}

int interrupted() { return g_signal.load(); }

}  // namespace xfed::app
