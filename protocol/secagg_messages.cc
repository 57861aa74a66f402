#include "protocol/secagg_messages.h"

#include "compression/bitpack.h"
#include "compression/shared_support.h"
#include "core/rng.h"

namespace xfed::protocol {
namespace {

bool read_id(ByteReader& r, const SecAggBounds& b, int64_t* id) {
  uint64_t v = 0;
  if (!r.get_varint(&v) || v >= static_cast<uint64_t>(b.clients)) return false;
  *id = static_cast<int64_t>(v);
  return true;
}

bool read_count(ByteReader& r, const SecAggBounds& b, uint64_t* n) {
  return r.get_varint(n) && *n <= static_cast<uint64_t>(b.clients);
}

void write_ids(ByteWriter& w, const std::vector<int64_t>& ids) {
  w.put_varint(ids.size());
  for (int64_t id : ids) w.put_varint(static_cast<uint64_t>(id));
}

// Increasing ids: one entry per client, in one order.
bool read_ids(ByteReader& r, const SecAggBounds& b, std::vector<int64_t>* ids) {
  uint64_t n = 0;
  if (!read_count(r, b, &n)) return false;
  ids->clear();
  for (uint64_t i = 0; i < n; ++i) {
    int64_t id = 0;
    if (!read_id(r, b, &id) || (!ids->empty() && id <= ids->back())) return false;
    ids->push_back(id);
  }
  return true;
}

void write_shares(ByteWriter& w, const std::map<int64_t, secagg::ShamirShare>& shares) {
  w.put_varint(shares.size());
  for (const auto& [owner, s] : shares) {
    w.put_varint(static_cast<uint64_t>(owner));
    w.put_u8(s.x);
    w.put_bytes(s.y.data(), s.y.size());
  }
}

bool read_shares(ByteReader& r, const SecAggBounds& b, std::map<int64_t, secagg::ShamirShare>* shares) {
  uint64_t n = 0;
  if (!read_count(r, b, &n)) return false;
  shares->clear();
  int64_t last = -1;
  for (uint64_t i = 0; i < n; ++i) {
    int64_t owner = 0;
    secagg::ShamirShare s;
    if (!read_id(r, b, &owner) || owner <= last || !r.get_u8(&s.x) || s.x == 0 || !r.get_bytes(s.y.data(), s.y.size()))
      return false;
    (*shares)[owner] = s;
    last = owner;
  }
  return true;
}

}  // namespace

secagg::RoundParams secagg_round_params(const SecAggTask& task, uint64_t run_seed, uint32_t round, size_t length) {
  secagg::RoundParams p;
  p.round = round;
  p.neighbours = static_cast<int>(task.degree);
  p.threshold = static_cast<int>(task.threshold);
  p.numbers = secagg::FixedPoint{task.range, task.bits, task.ring_bits};
  p.length = length;
  p.graph_seed = mix_seed(run_seed, kStreamSecAggGraph, round);
  return p;
}

secagg::RoundParams secagg_stats_params(const SecAggTask& task, uint64_t run_seed, uint32_t round, size_t length) {
  auto p = secagg_round_params(task, run_seed, round, length);
  p.numbers.range = 1.0;
  p.graph_seed = mix_seed(run_seed, kStreamSecAggGraph, round, 1);
  return p;
}

std::vector<int64_t> secagg_support(const StateLayout& layout, double ratio, uint64_t run_seed, uint32_t round) {
  return compression::shared_support(layout, ratio, mix_seed(run_seed, kStreamSecAggSupport, round));
}

void write_advert(ByteWriter& w, const secagg::KeyAdvert& a) {
  w.put_varint(static_cast<uint64_t>(a.client));
  w.put_bytes(a.cipher_key.data(), a.cipher_key.size());
  w.put_bytes(a.mask_key.data(), a.mask_key.size());
}

bool read_advert(ByteReader& r, const SecAggBounds& b, secagg::KeyAdvert* a) {
  return read_id(r, b, &a->client) && r.get_bytes(a->cipher_key.data(), a->cipher_key.size()) &&
         r.get_bytes(a->mask_key.data(), a->mask_key.size());
}

void write_adverts(ByteWriter& w, const std::vector<secagg::KeyAdvert>& adverts) {
  w.put_varint(adverts.size());
  for (const auto& a : adverts) write_advert(w, a);
}

bool read_adverts(ByteReader& r, const SecAggBounds& b, std::vector<secagg::KeyAdvert>* adverts) {
  uint64_t n = 0;
  if (!read_count(r, b, &n)) return false;
  adverts->clear();
  for (uint64_t i = 0; i < n; ++i) {
    secagg::KeyAdvert a;
    if (!read_advert(r, b, &a) || (!adverts->empty() && a.client <= adverts->back().client)) return false;
    adverts->push_back(a);
  }
  return true;
}

void write_sealed_shares(ByteWriter& w, const std::vector<secagg::SealedShares>& shares) {
  w.put_varint(shares.size());
  for (const auto& s : shares) {
    w.put_varint(static_cast<uint64_t>(s.from));
    w.put_varint(static_cast<uint64_t>(s.to));
    w.put_bytes(s.sealed.data(), s.sealed.size());
  }
}

bool read_sealed_shares(ByteReader& r, const SecAggBounds& b, std::vector<secagg::SealedShares>* shares) {
  uint64_t n = 0;
  if (!read_count(r, b, &n)) return false;
  shares->clear();
  for (uint64_t i = 0; i < n; ++i) {
    secagg::SealedShares s;
    s.sealed.resize(secagg::kSealedShareBytes);
    if (!read_id(r, b, &s.from) || !read_id(r, b, &s.to) || !r.get_bytes(s.sealed.data(), s.sealed.size()))
      return false;
    shares->push_back(std::move(s));
  }
  return true;
}

void write_masked_input(ByteWriter& w, const secagg::MaskedInput& m, int ring_bits) {
  w.put_varint(static_cast<uint64_t>(m.client));
  w.put_varint(m.masked.size());
  w.put_u8(static_cast<uint8_t>(ring_bits));
  Bytes packed;
  {
    compression::BitWriter bits(&packed);
    for (uint32_t v : m.masked) bits.put(v, ring_bits);
  }
  w.put_bytes(packed.data(), packed.size());
}

bool read_masked_input(ByteReader& r, const SecAggBounds& b, secagg::MaskedInput* m) {
  uint64_t length = 0;
  uint8_t ring_bits = 0;
  if (!read_id(r, b, &m->client) || !r.get_varint(&length) || length != b.length || !r.get_u8(&ring_bits) ||
      ring_bits != b.ring_bits || ring_bits < 1 || ring_bits > 32)
    return false;
  Bytes packed(compression::packed_bytes(length, ring_bits));
  if (!r.get_bytes(packed.data(), packed.size())) return false;
  compression::BitReader bits(packed.data(), packed.size());
  m->masked.resize(length);
  for (auto& v : m->masked) {
    uint64_t x = 0;
    if (!bits.get(ring_bits, &x)) return false;
    v = static_cast<uint32_t>(x);
  }
  return true;
}

void write_unmask_request(ByteWriter& w, const secagg::UnmaskRequest& q) {
  write_ids(w, q.survivors);
  write_ids(w, q.dropped);
}

bool read_unmask_request(ByteReader& r, const SecAggBounds& b, secagg::UnmaskRequest* q) {
  return read_ids(r, b, &q->survivors) && read_ids(r, b, &q->dropped);
}

void write_unmask_reply(ByteWriter& w, const secagg::UnmaskReply& a) {
  w.put_varint(static_cast<uint64_t>(a.client));
  write_shares(w, a.seed_shares);
  write_shares(w, a.key_shares);
}

bool read_unmask_reply(ByteReader& r, const SecAggBounds& b, secagg::UnmaskReply* a) {
  return read_id(r, b, &a->client) && read_shares(r, b, &a->seed_shares) && read_shares(r, b, &a->key_shares);
}

}  // namespace xfed::protocol
