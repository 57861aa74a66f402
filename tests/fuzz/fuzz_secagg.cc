// libFuzzer target: secure aggregation's messages (protocol/secagg_messages.h), each read
// from the same bytes under fixed bounds; what a reader accepts must respect them.
#include "protocol/secagg_messages.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace xfed;
  const protocol::SecAggBounds b{300, 64, 20};
  {
    ByteReader r(data, size);
    std::vector<secagg::KeyAdvert> adverts;
    if (protocol::read_adverts(r, b, &adverts) && adverts.size() > 300) __builtin_trap();
  }
  {
    ByteReader r(data, size);
    std::vector<secagg::SealedShares> shares;
    if (protocol::read_sealed_shares(r, b, &shares))
      for (const auto& s : shares)
        if (s.sealed.size() != secagg::kSealedShareBytes || s.from >= 300 || s.to >= 300) __builtin_trap();
  }
  {
    ByteReader r(data, size);
    secagg::MaskedInput m;
    if (protocol::read_masked_input(r, b, &m)) {
      if (m.masked.size() != 64) __builtin_trap();
      for (uint32_t v : m.masked)
        if (v >> 20) __builtin_trap();  // within the ring
    }
  }
  {
    ByteReader r(data, size);
    secagg::UnmaskRequest q;
    (void)protocol::read_unmask_request(r, b, &q);
  }
  {
    ByteReader r(data, size);
    secagg::UnmaskReply a;
    if (protocol::read_unmask_reply(r, b, &a))
      for (const auto& [owner, s] : a.seed_shares)
        if (s.x == 0 || owner >= 300) __builtin_trap();
  }
  return 0;
}
