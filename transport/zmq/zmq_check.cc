#include "transport/zmq/zmq_check.h"

#include <zmq.h>

namespace xfed::transport {

Status zmq_check(int rc, const std::string& what) {
  if (rc != -1) return Status::ok();
  const int err = zmq_errno();
  return Status::error(what + " failed: " + zmq_strerror(err));
}

}  // namespace xfed::transport
