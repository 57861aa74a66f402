// EdgeConfig: the flags of `xfed coordinator` and `xfed worker` beyond a run's own (which
// are RunConfig's, the same as for simulate: both sides must give the same ones).
#pragma once

#include <cstdint>
#include <string>

namespace xfed::app {

struct EdgeConfig {
  std::string endpoint;         // --bind (coordinator) / --connect (worker): tcp://HOST:PORT
  std::string key_file;         // --key NAME.key: this process's key pair (xfed keygen)
  std::string authorized_keys;  // coordinator: the workers' public keys, one a line
  std::string server_key;       // worker: the coordinator's public key (NAME.pub, or its Z85 text)
  std::string clients;          // worker: --client 3 or 3,7
  bool insecure = false;        // plaintext, unauthenticated (both sides)
  double heartbeat = 1.0;       // seconds of silence before a heartbeat
  int64_t liveness = 5;         // heartbeats of silence before a peer is lost
  double wait_workers = 60;     // coordinator: before round 1, wait this long for every worker
  double connect_timeout = 30;  // worker: for the first welcome
  double reconnect_timeout = 120;  // worker: for a lost coordinator to answer again
};

}  // namespace xfed::app
