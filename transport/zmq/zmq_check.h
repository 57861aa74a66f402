// The one door to libzmq's error codes: every zmq call of transport/zmq/ goes through
// zmq_check, which turns a failed call (return -1, or a null pointer) into a Status naming
// the call and what it was for, with zmq_strerror's text.
#pragma once

#include <string>

#include "core/status.h"

namespace xfed::transport {

// rc: the call's return value (-1 is failure); what: the call and its object
// ("zmq_bind tcp://0.0.0.0:5555").
Status zmq_check(int rc, const std::string& what);

}  // namespace xfed::transport
