#include "coordinator/link_model.h"

#include <cctype>
#include <cmath>
#include <sstream>

namespace xfed::coordinator {
namespace {

// "12.5mbit" -> 12.5, "mbit"
bool split_number(const std::string& s, double* value, std::string* unit) {
  size_t i = 0;
  while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
  if (i == 0) return false;
  try {
    *value = std::stod(s.substr(0, i));
  } catch (const std::exception&) {
    return false;
  }
  *unit = s.substr(i);
  for (auto& c : *unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return std::isfinite(*value);
}

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
  std::stringstream ss(spec);
  std::string item;
  while (std::getline(ss, item, ',')) {
    const auto colon = item.find(':');
    double v, scale;
    std::string unit;
    Link link;
    if (!split_number(item.substr(0, colon), &v, &unit) || v <= 0 ||
        !scale_of(unit, kRates, kRateScale, 4, &scale))
      return Status::usage("--link '" + spec + "': bad bandwidth in '" + item +
                           "' (e.g. 1mbit, 500kbit, 1gbit)");
    link.bits_per_second = v * scale;
    if (colon != std::string::npos) {
      if (!split_number(item.substr(colon + 1), &v, &unit) || !scale_of(unit, kTimes, kTimeScale, 3, &scale))
        return Status::usage("--link '" + spec + "': bad latency in '" + item + "' (e.g. 50ms)");
      link.latency_s = v * scale;
    }
    links.push_back(link);
  }
  if (links.empty()) return Status::usage("--link '" + spec + "': no links given");
  return links;
}

double transfer_seconds(const Link& link, int64_t bytes_down, int64_t bytes_up) {
  return 8.0 * static_cast<double>(bytes_down + bytes_up) / link.bits_per_second + 2 * link.latency_s;
}

}  // namespace xfed::coordinator
