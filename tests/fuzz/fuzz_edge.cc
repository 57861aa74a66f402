// libFuzzer target: what edge peers send the ZeroMQ transport that it parses itself — the
// chunks of a large frame (as a sequence of u16-length-prefixed chunks to one assembler),
// the handshake payloads (hello, welcome, refusal) and a worker's introduction as the
// coordinator's admission reads it — and the authorized-keys text the coordinator reads,
// all from the same bytes.
#include <algorithm>

#include "app/edge_admission.h"
#include "transport/zmq/chunks.h"
#include "transport/zmq/curve_keys.h"
#include "transport/zmq/greeting.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace xfed;
  (void)transport::parse_authorized_keys(std::string(data, data + size), "fuzz");
  const Bytes bytes(data, data + size);
  if (auto hello = transport::decode_hello(bytes)) {
    static app::EdgeAdmission admission(8, "--lr=0.05\n");
    (void)admission.admit(1, hello.value().introduction);
  }
  (void)transport::decode_welcome(bytes);
  (void)transport::decode_refusal(bytes);
  transport::ChunkAssembler assembler(size_t{1} << 20);
  for (size_t at = 0; at + 2 <= size;) {
    const size_t n = std::min<size_t>(data[at] | (data[at + 1] << 8), size - at - 2);
    at += 2;
    (void)assembler.add(Bytes(data + at, data + at + n));
    at += n;
  }
  return 0;
}
