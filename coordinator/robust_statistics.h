// A robust statistics round (`--prune ...,stats_trim=F`): the class statistics of a DI round
// add across clients, so one client can steer the pruning plan with forged ones that pass
// every consistency check (`--attack stats`). Before the sum, each client's statistics are
// put in a common scale — per tap, its class means s_l / n_l and its per-sample second
// moments Q_jj / n — and compared with the coordinate-wise median over the clients; the F
// clients farthest from it (relative squared distance, averaged over the taps they sent) are
// left out of the round, their input statistics too. Honest non-iid clients differ from the
// median as well: F is how many the round can spare. Pure.
#pragma once

#include <cstdint>
#include <map>
#include <set>

#include "pruning/evidence.h"

namespace xfed::coordinator {

// The min(F, clients - 1) clients to leave out; ties go to the lower client id staying.
std::set<int64_t> farthest_statistics(const std::map<int64_t, pruning::Evidence>& stats, int64_t drop);

}  // namespace xfed::coordinator
