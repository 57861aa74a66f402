#include "secagg/session.h"

#include <algorithm>

#include "core/coding.h"
#include "secagg/masking.h"
#include "secagg/neighbours.h"

namespace xfed::secagg {
namespace {

std::string who(int64_t client) { return "client " + std::to_string(client); }

std::vector<int64_t> ids_of(const std::map<int64_t, KeyAdvert>& adverts) {
  std::vector<int64_t> ids;
  for (const auto& [id, a] : adverts) ids.push_back(id);
  return ids;
}

// What a share travels with in the clear and is bound to: round, sender, recipient.
std::vector<uint8_t> associated_data(uint64_t round, int64_t from, int64_t to) {
  std::vector<uint8_t> ad;
  ByteWriter w(&ad);
  w.put_u64(round);
  w.put_u64(static_cast<uint64_t>(from));
  w.put_u64(static_cast<uint64_t>(to));
  return ad;
}

void put_share(ByteWriter& w, const ShamirShare& s) {
  w.put_u8(s.x);
  w.put_bytes(s.y.data(), s.y.size());
}

bool get_share(ByteReader& r, ShamirShare* s) { return r.get_u8(&s->x) && s->x != 0 && r.get_bytes(s->y.data(), s->y.size()); }

// The secret of `client` from the shares its neighbours handed over in `shares`.
Result<SecretKey> recover(int64_t client, const std::vector<ShamirShare>& shares, int threshold, const char* what) {
  if (static_cast<int>(shares.size()) < threshold)
    return Status::error("secure aggregation: " + std::to_string(shares.size()) + " shares of the " + what + " of " +
                         who(client) + ", " + std::to_string(threshold) + " needed; nothing is unmasked");
  return shamir_combine(shares);
}

}  // namespace

int effective_threshold(const RoundParams& params, size_t advertisers) {
  const int neighbours = static_cast<int>(std::min<size_t>(static_cast<size_t>(std::max(params.neighbours, 0)),
                                                           advertisers > 0 ? advertisers - 1 : 0));
  return std::min(params.threshold, neighbours);
}

ClientSession::ClientSession(int64_t id, RoundParams params)
    : id_(id),
      params_(std::move(params)),
      cipher_(x25519_keypair()),
      mask_(x25519_keypair()),
      self_seed_(random_secret()),
      rounding_key_(random_secret()) {}

KeyAdvert ClientSession::advertise() const { return {id_, cipher_.public_key, mask_.public_key}; }

Result<std::vector<SealedShares>> ClientSession::share_keys(const std::vector<KeyAdvert>& adverts) {
  std::map<int64_t, KeyAdvert> all;
  for (const auto& a : adverts)
    if (!all.emplace(a.client, a).second) return Status::error("secure aggregation: two adverts of " + who(a.client));
  if (!all.count(id_) || all.at(id_).cipher_key != cipher_.public_key || all.at(id_).mask_key != mask_.public_key)
    return Status::error("secure aggregation: the adverts do not hold this client's own keys");
  threshold_ = effective_threshold(params_, all.size());
  if (threshold_ < 2)
    return Status::error("secure aggregation: " + std::to_string(all.size()) + " clients advertised keys, at least " +
                         std::to_string(kMinSecAggClients) + " are needed");
  const auto graph = neighbour_graph(ids_of(all), params_.neighbours, params_.graph_seed);
  const auto& mine = graph.at(id_);
  std::vector<uint8_t> points;
  for (size_t j = 0; j < mine.size(); ++j) points.push_back(static_cast<uint8_t>(j + 1));
  auto seed_shares = shamir_split(self_seed_, threshold_, points);
  auto key_shares = shamir_split(mask_.secret_key, threshold_, points);
  if (!seed_shares || !key_shares) return Status::error("secure aggregation: " + seed_shares.message() + key_shares.message());
  std::vector<SealedShares> out;
  for (size_t j = 0; j < mine.size(); ++j) {
    const auto& to = all.at(mine[j]);
    neighbours_[to.client] = to;
    const auto key = agreed_key(cipher_, to.cipher_key);
    if (!key) return Status::error("secure aggregation: " + who(to.client) + " advertised a low-order key");
    std::vector<uint8_t> plain;
    ByteWriter w(&plain);
    put_share(w, seed_shares.value()[j]);
    put_share(w, key_shares.value()[j]);
    const auto ad = associated_data(params_.round, id_, to.client);
    out.push_back({id_, to.client, seal(*key, nonce_of(static_cast<uint64_t>(id_)), plain.data(), plain.size(),
                                        ad.data(), ad.size())});
  }
  return out;
}

Result<MaskedInput> ClientSession::mask(const std::vector<SealedShares>& received, const std::vector<float>& values) {
  return mask_encoded(received, encode(values, params_.numbers, rounding_key_));
}

Result<MaskedInput> ClientSession::mask_encoded(const std::vector<SealedShares>& received, std::vector<uint32_t> x) {
  if (x.size() != params_.length)
    return Status::error("secure aggregation: " + std::to_string(x.size()) + " values, the round has " +
                         std::to_string(params_.length));
  if (threshold_ == 0) return Status::error("secure aggregation: masking before the keys were shared");
  std::vector<PairKey> pairs;
  for (const auto& s : received) {
    const auto it = neighbours_.find(s.from);
    if (s.to != id_ || it == neighbours_.end() || seed_shares_.count(s.from))
      return Status::error("secure aggregation: shares from " + who(s.from) + " that are not this client's to take");
    const auto key = agreed_key(cipher_, it->second.cipher_key);
    const auto ad = associated_data(params_.round, s.from, id_);
    const auto plain = key ? open_sealed(*key, nonce_of(static_cast<uint64_t>(s.from)), s.sealed.data(),
                                         s.sealed.size(), ad.data(), ad.size())
                           : std::nullopt;
    const std::vector<uint8_t> bytes = plain ? *plain : std::vector<uint8_t>{};
    ShamirShare seed, mask_key;
    ByteReader r(bytes);
    if (!plain || !get_share(r, &seed) || !get_share(r, &mask_key) || !r.done())
      return Status::error("secure aggregation: the shares from " + who(s.from) + " do not open");
    seed_shares_[s.from] = seed;
    key_shares_[s.from] = mask_key;
    const auto pair = agreed_key(mask_, it->second.mask_key);
    if (!pair) return Status::error("secure aggregation: " + who(s.from) + " advertised a low-order key");
    pairs.push_back({s.from, *pair});
  }
  for (auto& v : x) v &= params_.numbers.ring_mask();
  add_masks(x, id_, self_seed_, pairs, params_.numbers.ring_mask());
  return MaskedInput{id_, std::move(x)};
}

Result<UnmaskReply> ClientSession::unmask(const UnmaskRequest& request) const {
  const std::set<int64_t> survivors(request.survivors.begin(), request.survivors.end());
  const std::set<int64_t> dropped(request.dropped.begin(), request.dropped.end());
  if (survivors.size() != request.survivors.size() || dropped.size() != request.dropped.size())
    return Status::error("secure aggregation: the unmask request names a client twice");
  for (int64_t c : dropped)
    if (survivors.count(c))
      return Status::error("secure aggregation: the unmask request names " + who(c) +
                           " both surviving and dropped (it asks for both its shares); refused");
  if (!survivors.count(id_)) return Status::error("secure aggregation: the unmask request does not count this client");
  if (threshold_ == 0) return Status::error("secure aggregation: an unmask request before the keys were shared");
  if (static_cast<int>(survivors.size()) < threshold_)
    return Status::error("secure aggregation: " + std::to_string(survivors.size()) + " survivors, fewer than the threshold " +
                         std::to_string(threshold_) + "; refused");
  UnmaskReply reply{id_, {}, {}};
  for (const auto& [neighbour, share] : seed_shares_)
    if (survivors.count(neighbour)) reply.seed_shares[neighbour] = share;
  for (const auto& [neighbour, share] : key_shares_)
    if (dropped.count(neighbour)) reply.key_shares[neighbour] = share;
  return reply;
}

CoordinatorSession::CoordinatorSession(RoundParams params) : params_(std::move(params)) {}

void CoordinatorSession::take_advert(const KeyAdvert& advert) { adverts_.emplace(advert.client, advert); }

std::vector<KeyAdvert> CoordinatorSession::adverts() const {
  std::vector<KeyAdvert> out;
  for (const auto& [id, a] : adverts_) out.push_back(a);
  return out;
}

void CoordinatorSession::take_shares(const std::vector<SealedShares>& shares) {
  if (graph_.empty()) graph_ = neighbour_graph(ids_of(adverts_), params_.neighbours, params_.graph_seed);
  for (const auto& s : shares) {
    if (!adverts_.count(s.from) || !adverts_.count(s.to)) continue;
    const auto& theirs = graph_.at(s.from);
    if (!std::binary_search(theirs.begin(), theirs.end(), s.to) || !relayed_.insert({s.from, s.to}).second) continue;
    inbox_[s.to].push_back(s);
    shared_.insert(s.from);
  }
}

std::vector<SealedShares> CoordinatorSession::shares_for(int64_t client) const {
  const auto it = inbox_.find(client);
  return it == inbox_.end() ? std::vector<SealedShares>{} : it->second;
}

void CoordinatorSession::take_masked(const MaskedInput& input) {
  if (shared_.count(input.client) && input.masked.size() == params_.length) masked_[input.client] = input.masked;
}

UnmaskRequest CoordinatorSession::unmask_request() const {
  UnmaskRequest request;
  for (int64_t c : shared_) (masked_.count(c) ? request.survivors : request.dropped).push_back(c);
  return request;
}

void CoordinatorSession::take_reply(const UnmaskReply& reply) {
  if (masked_.count(reply.client)) replies_[reply.client] = reply;
}

Result<std::vector<double>> CoordinatorSession::sum() const {
  const auto request = unmask_request();
  if (request.survivors.empty()) return Status::error("secure aggregation: no masked input arrived");
  if (request.survivors.size() > params_.numbers.max_summands())
    return Status::error("secure aggregation: " + std::to_string(request.survivors.size()) + " inputs of " +
                         std::to_string(params_.numbers.bits) + " bits could wrap a ring of " +
                         std::to_string(params_.numbers.ring_bits) + " bits");
  // Shares by the client they belong to, as the survivors handed them over.
  std::map<int64_t, std::vector<ShamirShare>> seeds, keys;
  for (const auto& [from, reply] : replies_) {
    for (const auto& [owner, share] : reply.seed_shares) seeds[owner].push_back(share);
    for (const auto& [owner, share] : reply.key_shares) keys[owner].push_back(share);
  }
  const int threshold = effective_threshold(params_, adverts_.size());
  if (threshold < 2) return Status::error("secure aggregation: too few clients advertised keys");
  std::vector<uint32_t> total(params_.length, 0);
  std::vector<SecretKey> self_seeds;
  for (int64_t u : request.survivors) {
    const auto& y = masked_.at(u);
    for (size_t i = 0; i < total.size(); ++i) total[i] = (total[i] + y[i]) & params_.numbers.ring_mask();
    auto seed = recover(u, seeds[u], threshold, "self-mask seed");
    if (!seed) return seed.status();
    self_seeds.push_back(seed.value());
  }
  const auto graph = neighbour_graph(ids_of(adverts_), params_.neighbours, params_.graph_seed);
  std::map<int64_t, std::vector<PairKey>> dropped_pairs;
  for (int64_t v : request.dropped) {
    auto secret = recover(v, keys[v], threshold, "mask key");
    if (!secret) return secret.status();
    const KeyPair recovered{x25519_public_key(secret.value()), secret.value()};
    if (recovered.public_key != adverts_.at(v).mask_key)
      return Status::error("secure aggregation: the shares of the mask key of " + who(v) + " do not match its advert");
    for (int64_t u : graph.at(v)) {
      if (!masked_.count(u)) continue;
      const auto pair = agreed_key(recovered, adverts_.at(u).mask_key);
      if (!pair) return Status::error("secure aggregation: " + who(u) + " advertised a low-order key");
      dropped_pairs[v].push_back({u, *pair});
    }
  }
  remove_masks(total, self_seeds, dropped_pairs, params_.numbers.ring_mask());
  return decode_sum(total, params_.numbers, request.survivors.size());
}

}  // namespace xfed::secagg
