// Small valid instances of what xfed writes to disk, for tests and the fuzz seeds: a tiny
// mlp (16 inputs, 8-4 hidden, 10 classes), a checkpoint of it, a clients' state store; and a
// small noisy synthetic training set (6x6 images) for trainer tests.
#pragma once

#include <ATen/ATen.h>

#include "coordinator/checkpoint.h"
#include "core/model.h"
#include "core/model_state.h"
#include "core/synthetic.h"
#include "worker/error_feedback.h"

namespace xfed::testing {

inline Net tiny_model(uint64_t seed = 1) {
  at::manual_seed(seed);
  return make_model(make_spec("mlp", 1, 4, 4, 10, {8, 4}).value());
}

// n noisy 6x6 synthetic training samples.
inline Dataset small_data(int64_t n) {
  SyntheticOptions o;
  o.height = o.width = 6;
  o.train_size = n;
  o.noise = 1.0;
  return make_synthetic(o).train;
}

inline coordinator::CheckpointState sample_checkpoint(NetImpl& net) {
  coordinator::CheckpointState s;
  s.round = s.model_version = s.view_version = 3;
  s.spec_json = net.spec().to_json();
  s.weights = read_state(net);
  s.view = read_state(net);
  s.kept_original = {{0, 1, 2, 3, 4, 5, 6, 7}, {0, 1, 2, 3}};
  s.run_identity = "--clients=3\n--seed=1\n";
  s.privacy = Bytes(40, 7);  // --dp: a secret and a clip norm
  return s;
}

inline void fill_sample_clients(worker::ClientStateStore& store) {
  store.get(0, 20, true).residual.fill_(0.5);
  store.get(5, 20, false).residual.fill_(-1);
}

}  // namespace xfed::testing
