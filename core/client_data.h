// ClientDataSource: where a worker finds the local data of a logical client.
//
// In one process (simulate) and under mpirun every rank can serve any client from the
// shared partition; on an edge device the source holds just that device's client.
// Implementations are thread-safe; the returned Dataset must be treated as read-only.
#pragma once

#include <memory>

#include "core/dataset.h"
#include "core/partition.h"

namespace xfed {

class ClientDataSource {
 public:
  virtual ~ClientDataSource() = default;
  virtual int64_t num_clients() const = 0;
  virtual bool has_client(int64_t client) const = 0;
  virtual Dataset client_data(int64_t client) const = 0;
};

// A partitioned training set stored client by client: the samples are copied once, in
// client order, so client_data() is a view (no copy) of one contiguous range. Memory is
// one copy of the (partitioned) training set however many clients there are.
class PartitionedData : public ClientDataSource {
 public:
  PartitionedData(const Dataset& train, Partition partition);
  int64_t num_clients() const override { return partition_.clients(); }
  bool has_client(int64_t c) const override { return c >= 0 && c < partition_.clients(); }
  Dataset client_data(int64_t c) const override;
  const Partition& partition() const { return partition_; }

 private:
  Dataset by_client_;
  std::vector<int64_t> offsets_;  // client c holds rows [offsets_[c], offsets_[c + 1])
  Partition partition_;
};

// One device's own training set, served as the one client `client` (an edge worker with
// --data-dir and no --client: the coordinator calls it client rank - 1).
class SingleClientData : public ClientDataSource {
 public:
  SingleClientData(Dataset train, int64_t client) : train_(std::move(train)), client_(client) {}
  int64_t num_clients() const override { return 1; }
  bool has_client(int64_t c) const override { return c == client_; }
  Dataset client_data(int64_t c) const override;

 private:
  Dataset train_;
  int64_t client_;
};

}  // namespace xfed
