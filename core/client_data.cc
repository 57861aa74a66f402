#include "core/client_data.h"

#include <ATen/ATen.h>

#include "core/check.h"

namespace xfed {

PartitionedData::PartitionedData(const Dataset& train, Partition partition)
    : partition_(std::move(partition)) {
  std::vector<int64_t> order;
  offsets_.push_back(0);
  for (const auto& part : partition_.indices) {
    order.insert(order.end(), part.begin(), part.end());
    offsets_.push_back(static_cast<int64_t>(order.size()));
  }
  by_client_ = train.subset(order);
}

Dataset PartitionedData::client_data(int64_t c) const {
  const int64_t begin = offsets_.at(c), len = offsets_.at(c + 1) - begin;
  return Dataset{by_client_.images.narrow(0, begin, len), by_client_.labels.narrow(0, begin, len),
                 by_client_.classes};
}

Dataset SingleClientData::client_data(int64_t c) const {
  XFED_CHECK(c == client_, "client " + std::to_string(c) + " is not this device's (" + std::to_string(client_) + ")");
  return train_;
}

}  // namespace xfed
