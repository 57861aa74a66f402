#include "core/metrics.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <sstream>

#include "core/file_io.h"
#include "core/log.h"

namespace xfed {

std::string to_json_line(const RoundReport& r) {
  nlohmann::json j;
  j["round"] = r.round;
  j["test_accuracy"] = r.test_accuracy ? nlohmann::json(*r.test_accuracy) : nlohmann::json();
  j["test_loss"] = r.test_loss ? nlohmann::json(*r.test_loss) : nlohmann::json();
  j["train_loss"] = r.train_loss;
  j["lr"] = r.lr;
  j["sampled"] = r.sampled;
  j["clients"] = r.clients;
  j["dropped"] = r.dropped;
  j["missing"] = r.missing;
  j["failed"] = r.failed;
  j["skipped"] = r.skipped;
  if (r.epsilon) {
    j["epsilon"] = *r.epsilon;
    j["delta"] = *r.delta;
    j["dp_clip"] = *r.dp_clip;
  }
  if (r.secagg_dropped) {
    j["secagg_dropped"] = *r.secagg_dropped;
    j["seconds_unmask"] = r.seconds_unmask;
  }
  j["bytes_up"] = r.bytes_up;
  j["bytes_down"] = r.bytes_down;
  j["bytes_up_dense"] = r.bytes_up_dense;
  j["bytes_down_dense"] = r.bytes_down_dense;
  j["bytes_down_delta"] = r.bytes_down_delta;
  j["bytes_down_full"] = r.bytes_down_full;
  j["bytes_down_code"] = r.bytes_down_code;
  j["bytes_total"] = r.bytes_up + r.bytes_down;
  j["downloads_delta"] = r.downloads_delta;
  j["downloads_seeded"] = r.downloads_seeded;
  j["downloads_full"] = r.downloads_full;
  j["params"] = r.params;
  j["flops"] = r.flops;
  j["model_version"] = r.model_version;
  j["seconds"] = r.seconds;
  j["seconds_compute"] = r.seconds_compute;
  j["seconds_encode"] = r.seconds_encode;
  j["seconds_comm"] = r.seconds_comm;
  j["seconds_decode"] = r.seconds_decode;
  j["seconds_aggregate"] = r.seconds_aggregate;
  j["seconds_coordinator_codec"] = r.seconds_coordinator_codec;
  j["seconds_eval"] = r.seconds_eval;
  j["seconds_link"] = r.seconds_link;
  for (const auto& [key, values] : r.per_layer) j[key] = values;
  return j.dump();
}

std::string to_json_line(const RunSummary& s) {
  nlohmann::json j;
  j["summary"] = true;
  j["rounds"] = s.rounds;
  j["final_accuracy"] = s.final_accuracy;
  j["final_loss"] = s.final_loss;
  j["total_bytes_up"] = s.total_bytes_up;
  j["total_bytes_down"] = s.total_bytes_down;
  j["total_bytes_up_dense"] = s.total_bytes_up_dense;
  j["total_bytes_down_dense"] = s.total_bytes_down_dense;
  j["total_bytes_down_delta"] = s.total_bytes_down_delta;
  j["total_bytes_down_full"] = s.total_bytes_down_full;
  j["total_bytes"] = s.total_bytes_up + s.total_bytes_down;
  j["total_bytes_other"] = s.total_bytes_other;
  j["total_seconds_link"] = s.total_seconds_link;
  j["params"] = s.params;
  j["flops"] = s.flops;
  j["seconds"] = s.seconds;
  j["model_checksum"] = s.model_checksum;
  if (s.epsilon) {
    j["epsilon"] = *s.epsilon;
    j["delta"] = *s.delta;
  }
  return j.dump();
}

namespace {

// The lines of rounds <= last in an existing metrics file (none if it does not exist).
Result<std::string> rounds_through(const std::string& path, int64_t last) {
  if (last <= 0 || !std::filesystem::exists(path)) return std::string();
  auto text = read_text_file(path, kMaxFileBytes);
  if (!text) return text.status();
  std::stringstream in(text.value());
  std::string line, kept;
  while (std::getline(in, line)) {
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object() || j.contains("summary") || !j.contains("round") ||
        !j["round"].is_number_integer() || j["round"].get<int64_t>() > last)
      continue;
    kept += line + "\n";
  }
  return kept;
}

}  // namespace

Result<std::unique_ptr<JsonlMetricsWriter>> JsonlMetricsWriter::open(const std::string& path,
                                                                     int64_t keep_through_round) {
  auto kept = rounds_through(path, keep_through_round);
  if (!kept) return kept.status().prefixed("--metrics");
  if (auto st = write_file_atomically(path, Bytes(kept.value().begin(), kept.value().end())); !st)
    return st.prefixed("--metrics");
  std::ofstream out(path, std::ios::app);
  if (!out) return Status::io("--metrics " + path + ": cannot open for writing");
  return std::unique_ptr<JsonlMetricsWriter>(new JsonlMetricsWriter(std::move(out), path));
}

void JsonlMetricsWriter::write_line(const std::string& line) {
  out_ << line << "\n" << std::flush;
  if (!out_ && status_) {
    status_ = Status::io("--metrics " + path_ + ": write failed (disk full?); the file stops short");
    log_error(status_.message());
  }
}

void JsonlMetricsWriter::on_round(const RoundReport& report) { write_line(to_json_line(report)); }

void JsonlMetricsWriter::on_finish(const RunSummary& summary) { write_line(to_json_line(summary)); }

}  // namespace xfed
