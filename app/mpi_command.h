// `xfed mpi`: one run as an MPI job (mpirun / srun). Rank 0 runs the coordinator role, ranks
// 1..N-1 the worker role (app/roles.h) over the MPI transport (transport/mpi/); every flag
// means what it means for `simulate`, and the same config and seed give the same model.
//
// - Every rank reads the dataset and partitions it with the same seeded partitioner; only
//   frames cross ranks. Each client lives on one worker rank for the whole run (a seeded map
//   balanced by data size), so its error-feedback state stays where it was made; a rank
//   trains its sampled clients on --threads threads (default 1).
// - Only rank 0 writes metrics, progress, checkpoints and the model; on a checkpoint round
//   each worker rank writes its clients' state beside it (DIR/clients.rank<R>.xfed).
// - Start-up errors are one line from rank 0 and a non-zero exit on every rank, never a
//   hang: a world of one rank (also when srun started N lone copies), more worker ranks than
//   clients, a worker whose settings differ from the coordinator's (the configuration check
//   names the key), a rank that cannot load its data.
#pragma once

#include "app/run_config.h"

namespace xfed::app {

int mpi_command(RunConfig config);

}  // namespace xfed::app
