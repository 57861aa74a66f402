#include "app/edge_admission.h"

#include <algorithm>

#include "core/parse.h"
#include "core/run_identity.h"

namespace xfed::app {
namespace {

constexpr const char* kClientsKey = "clients=";
constexpr const char* kOwnData = "own";
constexpr const char* kWantsCode = "code=wanted\n";

// A device's own data: its identity without where the data is and how much of it there is.
std::string without_data_source(const std::string& identity) {
  std::string out;
  size_t at = 0;
  while (at < identity.size()) {
    const size_t end = std::min(identity.find('\n', at), identity.size());
    std::string line = identity.substr(at, end - at);
    at = end + 1;
    if (line.rfind("--data-dir=", 0) == 0 || line.rfind("--partition=", 0) == 0) continue;
    if (line.rfind("data shape=", 0) == 0) line = line.substr(0, line.rfind(", "));  // ", N samples"
    out += line + "\n";
  }
  return out;
}

std::string list_text(const std::vector<int64_t>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
  return s;
}

}  // namespace

Bytes encode_introduction(const Introduction& introduction) {
  const std::string clients = introduction.clients.empty() ? kOwnData : list_text(introduction.clients);
  const std::string text =
      kClientsKey + clients + "\n" + (introduction.wants_code ? kWantsCode : "") + introduction.run_identity;
  return Bytes(text.begin(), text.end());
}

Result<Introduction> decode_introduction(const Bytes& bytes) {
  const std::string text(bytes.begin(), bytes.end());
  const auto eol = text.find('\n');
  const std::string first = text.substr(0, eol);
  if (eol == std::string::npos || first.rfind(kClientsKey, 0) != 0)
    return Status::corruption("malformed introduction (no clients line)");
  const std::string list = first.substr(std::string(kClientsKey).size());
  std::string rest = text.substr(eol + 1);
  const bool wants_code = rest.rfind(kWantsCode, 0) == 0;
  if (wants_code) rest = rest.substr(std::string(kWantsCode).size());
  if (list == kOwnData) return Introduction{{}, rest, wants_code};
  auto clients = parse_int_list(list, ',', 0, int64_t{1} << 40);
  if (!clients || clients->empty()) return Status::corruption("malformed client list '" + list + "'");
  return Introduction{*clients, rest, wants_code};
}

std::string EdgeAdmission::admit(int rank, const Bytes& bytes) {
  const std::string me = "worker " + std::to_string(rank);
  auto introduction = decode_introduction(bytes);
  if (!introduction) return me + ": " + introduction.message();
  const bool own_data = introduction.value().clients.empty();
  if (own_data) introduction.value().clients = {rank - 1};
  const auto diff = own_data ? first_difference(without_data_source(run_identity_),
                                                without_data_source(introduction.value().run_identity))
                             : first_difference(run_identity_, introduction.value().run_identity);
  if (diff)
    return me + " runs another configuration than the coordinator: " + diff->key + " is '" + diff->other_value +
           "' on " + me + " and '" + diff->reference_value + "' on the coordinator (every process needs the same flags)";
  std::lock_guard<std::mutex> lock(mu_);
  for (int64_t c : introduction.value().clients) {
    if (c >= clients_)
      return me + " names client " + std::to_string(c) + " but the run has --clients " + std::to_string(clients_) +
             " (0.." + std::to_string(clients_ - 1) + ")";
    const auto it = rank_of_.find(c);
    if (it != rank_of_.end() && it->second != rank)
      return me + " names client " + std::to_string(c) + ", which worker " + std::to_string(it->second) +
             " serves already";
  }
  for (auto it = rank_of_.begin(); it != rank_of_.end();)  // a worker back with other clients
    it = it->second == rank ? rank_of_.erase(it) : std::next(it);
  for (int64_t c : introduction.value().clients) rank_of_[c] = rank;
  wants_code_[rank] = introduction.value().wants_code;
  return "";
}

bool EdgeAdmission::wants_code(int rank) const {
  std::lock_guard<std::mutex> lock(mu_);
  const auto it = wants_code_.find(rank);
  return it != wants_code_.end() && it->second;
}

int EdgeAdmission::rank_of(int64_t client) const {
  std::lock_guard<std::mutex> lock(mu_);
  const auto it = rank_of_.find(client);
  return it == rank_of_.end() ? 0 : it->second;
}

std::vector<int64_t> EdgeAdmission::unserved() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<int64_t> out;
  for (int64_t c = 0; c < clients_; ++c)
    if (!rank_of_.count(c)) out.push_back(c);
  return out;
}

}  // namespace xfed::app
