// Greetings: the edge transport's handshake payloads, parsed from outside input. Pure; no zmq.
//
//   hello    worker -> coordinator: string public key (Z85; with --insecure the only claim
//            of who the worker is, with CURVE it must equal the authenticated key), then
//            the worker's introduction (opaque to the transport: the application's run
//            identity and clients), to the end.
//   welcome  coordinator -> worker: u32 rank, u32 world size.
//   refusal  coordinator -> worker: string reason (why its hello was not admitted).
#pragma once

#include <cstdint>
#include <string>

#include "core/coding.h"
#include "core/status.h"

namespace xfed::transport {

struct Hello {
  std::string public_key;
  Bytes introduction;
};
struct Welcome {
  int rank = 0;
  int world = 0;
};

Bytes encode_hello(const Hello& hello);
Result<Hello> decode_hello(const Bytes& payload);
Bytes encode_welcome(const Welcome& welcome);
// An error unless 1 <= rank < world.
Result<Welcome> decode_welcome(const Bytes& payload);
Bytes encode_refusal(const std::string& reason);
Result<std::string> decode_refusal(const Bytes& payload);

}  // namespace xfed::transport
