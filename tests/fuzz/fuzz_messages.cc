// libFuzzer target: the round protocol's small payloads (task, update metadata, failure
// report, pipeline parameters), each read from the same bytes.
#include "compression/messages.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace xfed;
  {
    ByteReader r(data, size);
    compression::TrainTask t;
    if (t.read(r)) (void)t.uplink.spec();
  }
  {
    ByteReader r(data, size);
    compression::UpdateMeta m;
    (void)m.read(r);
  }
  {
    ByteReader r(data, size);
    compression::TaskFailure f;
    (void)f.read(r);
  }
  return 0;
}
