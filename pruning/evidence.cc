#include "pruning/evidence.h"

#include <ATen/ATen.h>

#include <string>

namespace xfed::pruning {

Status Evidence::add(const Evidence& o) {
  if (taps.empty() && taylor_sums.empty()) {
    *this = o;
    for (auto& t : taps)
      if (t) *t = ClassStats{t->counts.clone(), t->sums.clone(), t->second.clone()};
    for (auto& s : taylor_sums) s = s.clone();
    return Status::ok();
  }
  if (o.taps.size() != taps.size() || o.taylor_sums.size() != taylor_sums.size())
    return Status::corruption("evidence from clients disagrees in tap count");
  for (size_t t = 0; t < taps.size(); ++t) {
    if (!o.taps[t]) continue;
    if (!taps[t]) taps[t] = ClassStats::zeros(o.taps[t]->units(), o.taps[t]->classes());
    if (taps[t]->units() != o.taps[t]->units() || taps[t]->classes() != o.taps[t]->classes())
      return Status::corruption("evidence from clients disagrees in tap " + std::to_string(t) + " shape");
    *taps[t] += *o.taps[t];
  }
  for (size_t t = 0; t < taylor_sums.size(); ++t) taylor_sums[t] += o.taylor_sums[t];
  taylor_samples += o.taylor_samples;
  return Status::ok();
}

void Evidence::write(ByteWriter& w) const {
  w.put_varint(taps.size());
  for (const auto& t : taps) {
    w.put_u8(t ? 1 : 0);
    if (t) t->write(w);
  }
  w.put_u8(taylor_sums.empty() ? 0 : 1);
  if (taylor_sums.empty()) return;
  for (const auto& s : taylor_sums) {
    const auto c = s.contiguous();
    w.put_varint(static_cast<uint64_t>(c.numel()));
    w.put_bytes(c.data_ptr<double>(), c.numel() * sizeof(double));
  }
  w.put_f64(taylor_samples);
}

Result<Evidence> Evidence::read(ByteReader& r, const std::vector<int64_t>& tap_units, int64_t classes) {
  uint64_t n;
  if (!r.get_varint(&n) || n != tap_units.size())
    return Status::corruption("stats for " + std::to_string(n) + " taps, expected " + std::to_string(tap_units.size()));
  Evidence e;
  for (size_t t = 0; t < tap_units.size(); ++t) {
    uint8_t present;
    if (!r.get_u8(&present) || present > 1) return Status::corruption("truncated stats");
    if (!present) {
      e.taps.emplace_back();
      continue;
    }
    auto s = ClassStats::read(r, tap_units[t], classes);
    if (!s) return s.status();
    if (s.value().units() != tap_units[t] || s.value().classes() != classes)
      return Status::corruption("stats of tap " + std::to_string(t) + " have the wrong shape");
    e.taps.emplace_back(std::move(s).value());
  }
  uint8_t has_taylor;
  if (!r.get_u8(&has_taylor) || has_taylor > 1) return Status::corruption("truncated stats");
  for (size_t t = 0; has_taylor && t < tap_units.size(); ++t) {
    uint64_t units;
    if (!r.get_varint(&units) || units != static_cast<uint64_t>(tap_units[t]))
      return Status::corruption("taylor sums of the wrong size");
    auto s = at::empty({tap_units[t]}, at::kDouble);
    if (!r.get_bytes(s.data_ptr<double>(), units * sizeof(double))) return Status::corruption("truncated taylor sums");
    e.taylor_sums.push_back(s);
  }
  if (has_taylor && (!r.get_f64(&e.taylor_samples) || e.taylor_samples < 0))
    return Status::corruption("truncated taylor sums");
  return e;
}

}  // namespace xfed::pruning
