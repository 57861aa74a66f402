// libFuzzer target: the round protocol's small payloads (task, update metadata, failure
// report, control message, pipeline parameters, model code), each read from the same bytes.
#include "protocol/messages.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace xfed;
  {
    ByteReader r(data, size);
    protocol::TrainTask t;
    if (t.read(r)) (void)t.uplink.spec();
  }
  {
    ByteReader r(data, size);
    protocol::UpdateMeta m;
    (void)m.read(r);
  }
  {
    ByteReader r(data, size);
    protocol::TaskFailure f;
    (void)f.read(r);
  }
  {
    ByteReader r(data, size);
    protocol::ControlMessage c;
    (void)c.read(r);
  }
  {
    ByteReader r(data, size);
    protocol::ModelCode code;
    if (code.read(r) && !code.archive) __builtin_trap();  // read says true only with an archive
  }
  return 0;
}
