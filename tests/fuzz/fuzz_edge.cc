// libFuzzer target: what edge peers send the ZeroMQ transport that it parses itself — the
// chunks of a large frame (as a sequence of u16-length-prefixed chunks to one assembler) —
// and the authorized-keys text the coordinator reads, both from the same bytes.
#include <algorithm>

#include "transport/zmq/chunks.h"
#include "transport/zmq/curve_keys.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace xfed;
  (void)transport::parse_authorized_keys(std::string(data, data + size), "fuzz");
  transport::ChunkAssembler assembler(size_t{1} << 20);
  for (size_t at = 0; at + 2 <= size;) {
    const size_t n = std::min<size_t>(data[at] | (data[at + 1] << 8), size - at - 2);
    at += 2;
    (void)assembler.add(Bytes(data + at, data + at + n));
    at += n;
  }
  return 0;
}
