// Secure aggregation's messages on the wire (secagg/session.h holds what they mean). Each
// reader checks every count and size against the round's bounds and returns false on
// anything else, like the other payload readers; the caller names the peer.
//   KeyAdvert       varint client, 32 bytes cipher key, 32 bytes mask key
//   adverts         varint count, adverts in increasing client order
//   sealed shares   varint count, each: varint from, varint to, kSealedShareBytes bytes
//   MaskedInput     varint client, varint length, u8 ring bits m, the values packed at m bits
//   UnmaskRequest   two lists (survivors, dropped): varint count, increasing varint ids
//   UnmaskReply     varint client, two lists (seed shares, key shares): varint count, each
//                   varint owner (increasing), u8 point (1..255), 32 bytes
#pragma once

#include <cstdint>
#include <vector>

#include "core/coding.h"
#include "core/state_layout.h"
#include "protocol/messages.h"
#include "secagg/session.h"

namespace xfed::protocol {

// What a reader accepts: ids below `clients`, at most `clients` entries a list, masked
// vectors of exactly `length` values in a ring of exactly `ring_bits`.
struct SecAggBounds {
  int64_t clients = 0;
  size_t length = 0;
  int ring_bits = 32;
};

// The round's public parameters, as the coordinator and every client derive them from the
// task (run seed, round): the graph's seed, and the positions sent (compression/shared_support.h,
// ratio = the uplink's sparsifier ratio, 1 without one).
secagg::RoundParams secagg_round_params(const SecAggTask& task, uint64_t run_seed, uint32_t round, size_t length);
// A stats round's (its own graph): the values are statistics over their bounds, in [-1, 1]
// (pruning/masked_stats.h), the task's range being the activation bound.
secagg::RoundParams secagg_stats_params(const SecAggTask& task, uint64_t run_seed, uint32_t round, size_t length);
std::vector<int64_t> secagg_support(const StateLayout& layout, double ratio, uint64_t run_seed, uint32_t round);

void write_advert(ByteWriter& w, const secagg::KeyAdvert& a);
[[nodiscard]] bool read_advert(ByteReader& r, const SecAggBounds& b, secagg::KeyAdvert* a);
void write_adverts(ByteWriter& w, const std::vector<secagg::KeyAdvert>& adverts);
[[nodiscard]] bool read_adverts(ByteReader& r, const SecAggBounds& b, std::vector<secagg::KeyAdvert>* adverts);

void write_sealed_shares(ByteWriter& w, const std::vector<secagg::SealedShares>& shares);
[[nodiscard]] bool read_sealed_shares(ByteReader& r, const SecAggBounds& b, std::vector<secagg::SealedShares>* shares);

void write_masked_input(ByteWriter& w, const secagg::MaskedInput& m, int ring_bits);
[[nodiscard]] bool read_masked_input(ByteReader& r, const SecAggBounds& b, secagg::MaskedInput* m);

void write_unmask_request(ByteWriter& w, const secagg::UnmaskRequest& q);
[[nodiscard]] bool read_unmask_request(ByteReader& r, const SecAggBounds& b, secagg::UnmaskRequest* q);

void write_unmask_reply(ByteWriter& w, const secagg::UnmaskReply& a);
[[nodiscard]] bool read_unmask_reply(ByteReader& r, const SecAggBounds& b, secagg::UnmaskReply* a);

}  // namespace xfed::protocol
