// One round of SecAgg+ (Bell et al., CCS 2020; Bonawitz et al., CCS 2017) as two pure state
// machines — a client's and the coordinator's — that meet only through the messages below
// (the transport carries them as frames; nothing here knows it). The steps:
//   1. advertise: each client draws two X25519 key pairs (one to encrypt shares, one for
//      the pairwise masks) and a self-mask seed, and sends the public keys.
//   2. share keys: the neighbour graph is drawn over the clients that advertised (public
//      seed; secagg/neighbours.h); each client splits its seed and its mask secret key into
//      t-of-k Shamir shares, one per neighbour, each sealed (ChaCha20-Poly1305) under the key
//      it agrees on with that neighbour; the coordinator relays them.
//   3. masked input: a client masks its fixed-point vector with its self-mask and with a
//      pairwise mask for every neighbour whose shares reached it (those neighbours shared
//      keys with it too: the graph is symmetric).
//   4. unmask: the coordinator names the survivors (sent a masked input) and the dropped
//      (shared keys, sent nothing); a client hands over, per neighbour, the share of the
//      seed of a survivor or the share of the mask key of a dropped one — never both for one
//      neighbour, and nothing when a name is in both lists or too few survive. The
//      coordinator recovers what it needs from t shares, removes the masks and decodes the
//      sum. Fewer than t shares for any client: the round fails, nothing unmasked.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <vector>

#include "core/key_agreement.h"
#include "core/status.h"
#include "secagg/fixed_point.h"
#include "secagg/shamir.h"

namespace xfed::secagg {

struct RoundParams {
  uint64_t round = 0;
  int neighbours = 4;     // k (even)
  int threshold = 3;      // t of a client's k shares recover its secrets (as asked; see below)
  FixedPoint numbers;
  size_t length = 0;      // values per client
  uint64_t graph_seed = 0;
};

// The threshold a round uses with `advertisers` clients: t, but at most the neighbours a
// client has (min(k, advertisers − 1)), so that a small round can still recover; both sides
// compute it from the adverts. Below 2 (fewer than 3 clients advertised) no round runs: one
// share would reveal a secret, and the sum of two is either one's input given the other.
int effective_threshold(const RoundParams& params, size_t advertisers);
constexpr size_t kMinSecAggClients = 3;

struct KeyAdvert {
  int64_t client = 0;
  PublicKey cipher_key{};  // seals the shares
  PublicKey mask_key{};    // the pairwise masks
};

// A sealed share pair: the seed's and the mask key's shares (point + 32 bytes each) and the tag.
constexpr size_t kSealedShareBytes = 2 * (1 + sizeof(SecretKey)) + kSealOverhead;

struct SealedShares {  // from one client to one neighbour
  int64_t from = 0, to = 0;
  std::vector<uint8_t> sealed;
};

struct MaskedInput {
  int64_t client = 0;
  std::vector<uint32_t> masked;
};

struct UnmaskRequest {
  std::vector<int64_t> survivors, dropped;
};

struct UnmaskReply {
  int64_t client = 0;
  std::map<int64_t, ShamirShare> seed_shares;  // of surviving neighbours' self-mask seeds
  std::map<int64_t, ShamirShare> key_shares;   // of dropped neighbours' mask secret keys
};

class ClientSession {
 public:
  ClientSession(int64_t id, RoundParams params);
  KeyAdvert advertise() const;
  // Step 2, given every advert the coordinator relays (the graph is drawn over them).
  Result<std::vector<SealedShares>> share_keys(const std::vector<KeyAdvert>& adverts);
  // Step 3, given the shares addressed to this client; masks against their senders only.
  Result<MaskedInput> mask(const std::vector<SealedShares>& received, const std::vector<float>& values);
  // The same for values the caller encoded (secagg/fixed_point.h: it keeps what rounding left
  // out in its error feedback).
  Result<MaskedInput> mask_encoded(const std::vector<SealedShares>& received, std::vector<uint32_t> encoded);
  // Step 4: refuses a request that names a client in both lists, names a client this
  // client did not hear from, or leaves fewer than t survivors.
  Result<UnmaskReply> unmask(const UnmaskRequest& request) const;

 private:
  int64_t id_;
  RoundParams params_;
  int threshold_ = 0;  // effective, once the adverts are known
  KeyPair cipher_, mask_;
  SecretKey self_seed_, rounding_key_;
  std::map<int64_t, KeyAdvert> neighbours_;        // from the graph
  std::map<int64_t, ShamirShare> seed_shares_, key_shares_;  // held for neighbours who sent them
};

class CoordinatorSession {
 public:
  explicit CoordinatorSession(RoundParams params);
  void take_advert(const KeyAdvert& advert);
  // The adverts to relay, then (each client's) the sealed shares addressed to it.
  std::vector<KeyAdvert> adverts() const;
  // Keeps only shares from an advertiser to one of its neighbours in the graph, one per pair
  // (a hostile client cannot make the coordinator relay junk that knocks out honest ones).
  void take_shares(const std::vector<SealedShares>& shares);
  std::vector<SealedShares> shares_for(int64_t client) const;
  void take_masked(const MaskedInput& input);
  UnmaskRequest unmask_request() const;
  void take_reply(const UnmaskReply& reply);
  // The decoded sum of the survivors' values, or an error (too few shares: nothing unmasked).
  Result<std::vector<double>> sum() const;

 private:
  RoundParams params_;
  std::map<int64_t, KeyAdvert> adverts_;
  std::map<int64_t, std::vector<SealedShares>> inbox_;  // by recipient
  std::map<int64_t, std::vector<int64_t>> graph_;        // drawn at the first shares
  std::set<std::pair<int64_t, int64_t>> relayed_;       // (from, to)
  std::set<int64_t> shared_;                            // sent their shares
  std::map<int64_t, std::vector<uint32_t>> masked_;
  std::map<int64_t, UnmaskReply> replies_;
};

}  // namespace xfed::secagg
