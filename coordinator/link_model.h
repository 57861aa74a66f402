// Modelled edge links (--link): the time a round's transfers would take if each client sat
// behind its own link of the given bandwidth and one-way latency. Clients are assigned
// links from the list round-robin by client id (client c: links[c mod size]).
//
//   time(c) = 8 (bytes_down + bytes_up) / bandwidth + 2 latency
//   seconds_link(round) = max over the clients that answered
// Spec: comma-separated BANDWIDTH[:LATENCY], bandwidth in bit|kbit|mbit|gbit (per second),
// latency in us|ms|s; e.g. "1mbit:50ms" or "1mbit:100ms,10mbit:20ms".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace xfed::coordinator {

struct Link {
  double bits_per_second = 0;
  double latency_s = 0;
};

Result<std::vector<Link>> parse_links(const std::string& spec);
double transfer_seconds(const Link& link, int64_t bytes_down, int64_t bytes_up);

}  // namespace xfed::coordinator
