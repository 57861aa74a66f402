#include "coordinator/link_model.h"

#include "core/parse.h"

namespace xfed::coordinator {
namespace {

bool scale_of(const std::string& unit, const char* const names[], const double scales[], int n,
              double* scale) {
  for (int i = 0; i < n; ++i)
    if (unit == names[i]) return (*scale = scales[i]), true;
  return false;
}

}  // namespace

Result<std::vector<Link>> parse_links(const std::string& spec) {
  static const char* const kRates[] = {"bit", "kbit", "mbit", "gbit"};
  static const double kRateScale[] = {1, 1e3, 1e6, 1e9};
  static const char* const kTimes[] = {"us", "ms", "s"};
  static const double kTimeScale[] = {1e-6, 1e-3, 1};
  std::vector<Link> links;
  for (const auto& item : split_items(spec, ',')) {
    const auto [bandwidth, latency] = split_spec(item);
    double v, scale;
    std::string unit;
    Link link;
    if (!parse_quantity(bandwidth, &v, &unit) || !(v > 0) || !scale_of(unit, kRates, kRateScale, 4, &scale))
      return Status::usage("--link '" + spec + "': bad bandwidth in '" + item +
                           "' (e.g. 1mbit, 500kbit, 1gbit)");
    link.bits_per_second = v * scale;
    // Below 1 bit/s (1e-320mbit) a transfer time is no longer a number; above 1 Pbit/s no link.
    if (!(link.bits_per_second >= 1 && link.bits_per_second <= 1e15))
      return Status::usage("--link '" + spec + "': the bandwidth in '" + item + "' is outside 1bit..1000000gbit");
    if (latency) {
      if (!parse_quantity(*latency, &v, &unit) || !(v >= 0) || !scale_of(unit, kTimes, kTimeScale, 3, &scale))
        return Status::usage("--link '" + spec + "': bad latency in '" + item + "' (e.g. 50ms)");
      link.latency_s = v * scale;
      if (!(link.latency_s <= 1e6))
        return Status::usage("--link '" + spec + "': the latency in '" + item + "' is above 1000000s");
    }
    links.push_back(link);
  }
  return links;
}

double transfer_seconds(const Link& link, int64_t bytes_down, int64_t bytes_up) {
  return 8.0 * static_cast<double>(bytes_down + bytes_up) / link.bits_per_second + 2 * link.latency_s;
}

}  // namespace xfed::coordinator
