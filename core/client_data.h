// ClientDataSource: where a worker finds the local data of a logical client.
//
// In one process (simulate) and under mpirun every rank can serve any client from the
// shared partition; on an edge device the source holds just that device's client.
// client_data() builds a fresh Dataset (copies the client's rows) so a client that is not
// training holds no data copy; implementations are thread-safe.
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

class PartitionedData : public ClientDataSource {
 public:
  PartitionedData(std::shared_ptr<const Dataset> train, Partition partition)
      : train_(std::move(train)), partition_(std::move(partition)) {}
  int64_t num_clients() const override { return partition_.clients(); }
  bool has_client(int64_t c) const override { return c >= 0 && c < partition_.clients(); }
  Dataset client_data(int64_t c) const override { return train_->subset(partition_.indices.at(c)); }
  const Partition& partition() const { return partition_; }

 private:
  std::shared_ptr<const Dataset> train_;
  Partition partition_;
};

}  // namespace xfed
