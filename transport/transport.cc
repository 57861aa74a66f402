#include "transport/transport.h"

namespace xfed::transport {

std::string peer_name(int rank) {
  return rank == 0 ? "coordinator" : "worker " + std::to_string(rank);
}

}  // namespace xfed::transport
