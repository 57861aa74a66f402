// How much CPU a rank of the MPI transport burns while it waits for a frame. Open MPI's
// blocking calls spin a core; xfed's transport polls with a backing-off sleep. Rank 0 stays
// silent for SECONDS, then sends every other rank one frame; each waiting rank measures its
// own CPU time (user + system, all threads of the process) over the wait and reports it.
// Usage: mpirun -np 3 bench_mpi_idle [SECONDS=5]   (bench/transport_overhead.sh runs it)
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "transport/mpi/mpi_session.h"
#include "transport/mpi/mpi_transport.h"

namespace {

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace xfed::transport;
  const double seconds = argc > 1 ? std::atof(argv[1]) : 5.0;
  auto session = MpiSession::start().value_or_throw();
  auto t = make_mpi_transport().value_or_throw();
  if (t->rank() == 0) {
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    for (int r = 1; r < t->world_size(); ++r) (void)t->send(r, xfed::Bytes{1});
    for (int r = 1; r < t->world_size(); ++r) (void)t->recv({kAnySource, std::chrono::milliseconds(60000)});
    return 0;
  }
  const auto wall0 = std::chrono::steady_clock::now();
  const double cpu0 = cpu_seconds();
  auto got = t->recv({0, std::chrono::milliseconds(-1)});
  const double cpu = cpu_seconds() - cpu0;
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  std::printf("| idle rank %d | %6.2f s | %6.3f s | %5.2f %% |\n", t->rank(), wall, cpu, 100 * cpu / wall);
  std::fflush(stdout);
  (void)t->send(0, xfed::Bytes{got.ok() ? uint8_t{1} : uint8_t{0}});
  return got.ok() ? 0 : 1;
}
