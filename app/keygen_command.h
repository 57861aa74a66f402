// `xfed keygen --out NAME`: a CURVE key pair for the edge transport (transport/zmq/curve_keys.h):
// NAME.key (secret, 0600, never replaced) and NAME.pub. Prints the public key.
#pragma once

#include <string>

namespace xfed::app {

int keygen_command(const std::string& name);

}  // namespace xfed::app
