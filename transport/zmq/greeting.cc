#include "transport/zmq/greeting.h"

namespace xfed::transport {

constexpr size_t kMaxKeyText = 256;
constexpr size_t kMaxReason = 4096;

Bytes encode_hello(const Hello& hello) {
  Bytes out;
  ByteWriter w(&out);
  w.put_string(hello.public_key);
  out.insert(out.end(), hello.introduction.begin(), hello.introduction.end());
  return out;
}

Result<Hello> decode_hello(const Bytes& payload) {
  ByteReader r(payload.data(), payload.size());
  Hello hello;
  if (!r.get_string(&hello.public_key, kMaxKeyText)) return Status::corruption("malformed hello (key)");
  hello.introduction.assign(payload.begin() + static_cast<std::ptrdiff_t>(r.position()), payload.end());
  return hello;
}

Bytes encode_welcome(const Welcome& welcome) {
  Bytes out;
  ByteWriter w(&out);
  w.put_u32(static_cast<uint32_t>(welcome.rank));
  w.put_u32(static_cast<uint32_t>(welcome.world));
  return out;
}

Result<Welcome> decode_welcome(const Bytes& payload) {
  ByteReader r(payload.data(), payload.size());
  uint32_t rank = 0, world = 0;
  if (!r.get_u32(&rank) || !r.get_u32(&world) || r.remaining() != 0)
    return Status::corruption("malformed welcome");
  if (rank < 1 || rank >= world || world > (1u << 20))
    return Status::corruption("welcome with rank " + std::to_string(rank) + " of world " + std::to_string(world));
  return Welcome{static_cast<int>(rank), static_cast<int>(world)};
}

Bytes encode_refusal(const std::string& reason) {
  Bytes out;
  ByteWriter w(&out);
  w.put_string(reason.substr(0, kMaxReason));
  return out;
}

Result<std::string> decode_refusal(const Bytes& payload) {
  ByteReader r(payload.data(), payload.size());
  std::string reason;
  if (!r.get_string(&reason, kMaxReason)) return Status::corruption("malformed refusal");
  return reason;
}

}  // namespace xfed::transport
