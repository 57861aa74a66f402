// Bring your own model: a LibTorch module derived from xfed::NetImpl (a forward pass, its
// modules registered, built from a ModelSpec), registered by name with register_model before
// the run starts. `--model NAME` then builds it in every party of the run: the coordinator,
// each worker thread of `simulate`, and — when the program hands its command line to
// xfed::run_command_line (xfed/cli.h) — each rank of `mpirun … mpi` and each edge process.
// Names are unique: a built-in family's name or one registered before is refused.
#pragma once

#include "core/model.h"
#include "core/model_spec.h"

// NetImpl, Net, ModelSpec, ModelFactory, FamilyRules (what --widths and the input shape may
// be), register_model, make_model and make_initial_model
// are declared there, in namespace xfed.
