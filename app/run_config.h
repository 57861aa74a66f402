// RunConfig: every setting of a run as the user gave it (flags, --config file, defaults).
// The CLI is the only place that turns argv/TOML/JSON into this struct; run_setup.h turns it
// into the Options structs of the components.
#pragma once

#include <cstdint>
#include <string>

#include "core/train_options.h"

namespace xfed::app {

struct RunConfig {
  std::string config_file;
  std::string dataset = "fashion-mnist";
  std::string data_dir;           // empty: the dataset's default location
  std::string model = "mlp";
  std::string widths;             // "300,100"; empty: the model's default
  std::string model_sha256;       // with torchscript: the only archive this process runs
  int64_t clients = 10;
  double fraction = 1.0;
  int64_t rounds = 40;
  TrainOptions train;             // --lr, --momentum, --weight-decay, --local-epochs, --batch
  double lr_decay = 0.97;
  std::string partition = "iid";
  std::string strategy = "fedavg";
  double server_lr = -1.0;        // < 0: the strategy's default
  std::string aggregate = "mean";  // a registered aggregator, NAME[:ARG]
  std::string attack;              // --attack KIND:K[,scale=S] (simulate, mpi); empty: none
  std::string dp;                  // --dp clip=C,noise=Z[,...]; empty: none
  std::string secure_aggregation;  // --secure-aggregation[=threshold=T,...] ("on" bare); empty: off
  std::string compress = "none";
  std::string downlink = "none";
  bool no_error_feedback = false;
  double ef_momentum = 0.0;
  int64_t sparsity_warmup = 0;
  double warmup_start_ratio = 0.0;
  std::string link;
  std::string prune = "none";
  std::string share_weights;       // --share-weights bits=B[,after=R] | on; empty: off
  uint64_t seed = 1;
  int64_t threads = 0;            // simulate: worker threads (0: cores); mpi: per rank (0: 1)
  std::string transport;          // set by the command, part of the run identity: "" (simulate)
                                  // or "mpi, N ranks" (clients' state files are per rank)
  std::string metrics;
  std::string checkpoint_dir;
  int64_t checkpoint_every = 1;
  bool resume = false;
  std::string save_model;
  int64_t eval_every = 1;
  double round_timeout = 0.0;
  double straggler_timeout = 600.0;  // with no --round-timeout: clients silent this long after the last answer are missing
  int64_t min_clients = 1;
  double max_update_norm = 0.0;   // 0: no limit
  // synthetic dataset
  std::string synthetic_shape = "1x28x28";
  int64_t synthetic_classes = 10;
  int64_t synthetic_train = 6000;
  int64_t synthetic_test = 1000;
  double synthetic_noise = 8.0;
  // output
  bool quiet = false;
  bool verbose = false;
};

}  // namespace xfed::app
