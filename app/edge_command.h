// `xfed coordinator` and `xfed worker`: one run as separate processes over ZeroMQ/TCP (edge
// devices). The coordinator role (app/roles.h) over the zmq transport on one side, one
// worker role per process on the other; every run flag means what it means for `simulate`,
// and with every client served the same config and seed give the same model.
//
// - Security is on by default: CURVE with the coordinator's key pair (--key) and the
//   workers' public keys (--authorized-keys); a worker gives its key pair and the
//   coordinator's public key (--server-key). --insecure (both sides) turns it off, with a
//   warning line.
// - A worker trains the clients it names (--client 3,7: their partitions of the dataset,
//   the same seeded partitioner as simulate). It is admitted only with the coordinator's
//   settings (the first differing flag is named to both) and clients nobody else serves
//   (app/edge_admission.h). The coordinator waits up to --wait-workers seconds for every
//   authorized worker before round 1; workers that join later, or come back, get the full
//   model and train from the next round.
// - A worker whose coordinator goes silent keeps calling it for --reconnect-timeout seconds;
//   a coordinator restarted with --resume announces its checkpoint, and each worker puts its
//   clients' state back to that round (from its own --checkpoint-dir), so the run ends on
//   the model an uninterrupted run gives.
// - Exit codes as for simulate: a refused worker, a busy port, bad keys: one line, exit 2;
//   an unreachable coordinator: one line, exit 1.
#pragma once

#include "app/edge_config.h"
#include "app/run_config.h"

namespace xfed::app {

int coordinator_command(RunConfig run, const EdgeConfig& edge);
int worker_command(RunConfig run, const EdgeConfig& edge);

}  // namespace xfed::app
