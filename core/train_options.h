// TrainOptions: how a client trains in a round, one struct from the command line to the
// trainer (RunConfig::train → the coordinator's TrainTask → the wire → the worker → the
// trainer), never copied field by field. Its knobs are listed once, in visit(): each with
// its flag (none for what the coordinator sets per round), help, range and wire width, and
// the flag, the config-file key, the run identity, the task's bytes and their checks all
// follow from that list.
//
// A new training knob is a field and a visit() line here, its use in the trainer
// (worker/local_trainer.cc, and worker/mlp_trainer.cc if the fast path serves it), and its
// test. The task's bytes grow with it: peers of another build are refused before round 1
// (their run identities differ).
#pragma once

#include <cstdint>

namespace xfed {

struct Knob {
  enum class Wire : uint8_t { kF64, kU32, kU64 };
  const char* flag;  // "--lr"; nullptr: set by the coordinator each round, not a flag
  const char* help;
  double lo, hi;     // every value is in [lo, hi] ((lo, hi] with lo_open), flags and tasks alike
  bool lo_open;
  Wire wire;         // u32 and u64 knobs are whole numbers
};

struct TrainOptions {
  double lr = 0.05;
  double momentum = 0.9;
  double weight_decay = 0.0;
  double prox_mu = 0.0;       // FedProx proximal weight (0 = FedAvg): from --strategy
  int64_t local_epochs = 1;
  int64_t batch = 64;
  uint64_t seed = 0;          // task: the run seed; trainer: the client's batch-order seed
  int64_t shared_weights = 0; // --share-weights bits once the weights share values, else 0:
                              // the trainer then keeps equal weights equal (core/weight_clusters.h)
  int64_t pruned_zeros = 0;   // 1 once --share-weights sparsity= has pruned: the trainer keeps the
                              // zero weights of every matrix at zero (core/weight_clusters.h)

  // Calls f(knob, field) for every knob of `self` (a TrainOptions, const or not), in the
  // order of the task's bytes (format version 2: lr, momentum, weight decay, mu as f64,
  // epochs and batch as u32, seed as u64, then shared-weight bits and pruned zeros as u32).
  template <class Self, class F>
  static void visit(Self& self, F&& f) {
    using W = Knob::Wire;
    f(Knob{"--lr", "client learning rate", 0, 1e3, true, W::kF64}, self.lr);
    f(Knob{"--momentum", "client SGD momentum", 0, 0.999, false, W::kF64}, self.momentum);
    f(Knob{"--weight-decay", "client L2 weight decay", 0, 10, false, W::kF64}, self.weight_decay);
    f(Knob{nullptr, "FedProx proximal weight", 0, 1e3, false, W::kF64}, self.prox_mu);
    f(Knob{"--local-epochs", "local epochs per round", 1, 100000, false, W::kU32}, self.local_epochs);
    f(Knob{"--batch", "local minibatch size", 1, 1 << 24, false, W::kU32}, self.batch);
    f(Knob{nullptr, "run seed", 0, 18446744073709551615.0, false, W::kU64}, self.seed);
    f(Knob{nullptr, "shared-weight bits", 0, 16, false, W::kU32}, self.shared_weights);
    f(Knob{nullptr, "pruned zeros", 0, 1, false, W::kU32}, self.pruned_zeros);
  }
};

}  // namespace xfed
