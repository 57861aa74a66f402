#include "secagg/shamir.h"

extern "C" {
#include <libgfshare.h>
}

#include <functional>
#include <memory>
#include <mutex>
#include <set>

#include "core/check.h"
#include "core/key_agreement.h"

namespace xfed::secagg {
namespace {

void fill_from_os(unsigned char* buffer, unsigned int count) { random_bytes(buffer, count); }

struct ContextFree {
  void operator()(gfshare_ctx* ctx) const { gfshare_ctx_free(ctx); }
};
using Context = std::unique_ptr<gfshare_ctx, ContextFree>;

// The one checking helper: libgfshare draws its coefficients (and wipes its buffers) from
// the OS's random source, never random() — set once, before any context exists — and a
// context it could not allocate is a failed check.
Context checked_context(const std::function<gfshare_ctx*()>& init) {
  static std::once_flag random_source;
  std::call_once(random_source, [] { gfshare_fill_rand = fill_from_os; });
  gfshare_ctx* ctx = init();
  XFED_CHECK(ctx != nullptr, "libgfshare could not allocate a context");
  return Context(ctx);
}

Status check_points(const std::vector<uint8_t>& xs) {
  std::set<uint8_t> seen;
  for (uint8_t x : xs) {
    if (x == 0) return Status::error("Shamir: share point 0 is the secret itself");
    if (!seen.insert(x).second) return Status::error("Shamir: share point " + std::to_string(x) + " twice");
  }
  return Status::ok();
}

}  // namespace

Result<std::vector<ShamirShare>> shamir_split(const SecretKey& secret, int threshold, const std::vector<uint8_t>& xs) {
  if (auto st = check_points(xs); !st) return st;
  if (xs.empty() || threshold < 1 || threshold > static_cast<int>(xs.size()))
    return Status::error("Shamir: threshold " + std::to_string(threshold) + " for " + std::to_string(xs.size()) +
                         " shares");
  auto points = xs;
  const auto ctx = checked_context([&] {
    return gfshare_ctx_init_enc(points.data(), static_cast<unsigned>(points.size()),
                                static_cast<unsigned char>(threshold), sizeof(SecretKey));
  });
  auto copy = secret;  // libgfshare takes a non-const pointer
  gfshare_ctx_enc_setsecret(ctx.get(), copy.data());
  std::vector<ShamirShare> shares(xs.size());
  for (size_t i = 0; i < xs.size(); ++i) {
    shares[i].x = xs[i];
    gfshare_ctx_enc_getshare(ctx.get(), static_cast<unsigned char>(i), shares[i].y.data());
  }
  return shares;
}

Result<SecretKey> shamir_combine(const std::vector<ShamirShare>& shares) {
  std::vector<uint8_t> xs;
  for (const auto& s : shares) xs.push_back(s.x);
  if (auto st = check_points(xs); !st) return st;
  if (xs.empty()) return Status::error("Shamir: no share to combine");
  const auto ctx = checked_context(
      [&] { return gfshare_ctx_init_dec(xs.data(), static_cast<unsigned>(xs.size()), sizeof(SecretKey)); });
  for (size_t i = 0; i < shares.size(); ++i) {
    auto y = shares[i].y;
    gfshare_ctx_dec_giveshare(ctx.get(), static_cast<unsigned char>(i), y.data());
  }
  SecretKey secret;
  gfshare_ctx_dec_extract(ctx.get(), secret.data());
  return secret;
}

}  // namespace xfed::secagg
