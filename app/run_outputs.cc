#include "app/run_outputs.h"

#include <nlohmann/json.hpp>

#include "coordinator/model_file.h"
#include "core/file_io.h"
#include "core/log.h"

namespace xfed::app {

RunOutputs::RunOutputs(const RunConfig& config, const RunSetup& setup)
    : config_(config),
      progress_(stdout, make_model(setup.spec)->num_params(), config.transport.rfind("mpi", 0) != 0) {
  if (!config.metrics.empty())
    metrics_ = JsonlMetricsWriter::open(config.metrics, setup.resume.round).value_or_throw<UsageError>();
}

std::vector<RoundObserver*> RunOutputs::observers() {
  std::vector<RoundObserver*> out;
  if (metrics_) out.push_back(metrics_.get());
  if (!config_.quiet) out.push_back(&progress_);
  return out;
}

int RunOutputs::finish(const Result<RunOutcome>& outcome) {
  if (!outcome) {
    log_error(outcome.message());
    return outcome.code() == StatusCode::kUsage ? 2 : 1;
  }
  if (metrics_ && !metrics_->status()) return 1;  // logged when it happened
  if (config_.save_model.empty()) return 0;
  if (auto st = save_model_with_summary(config_.save_model, outcome.value()); !st) {
    log_error(st.message());
    return 1;
  }
  return 0;
}

Status save_model_with_summary(const std::string& path, const RunOutcome& r) {
  if (auto st = coordinator::save_model_file(path, *r.model); !st) return st;
  nlohmann::json kept = nlohmann::json::object();
  for (size_t l = 0; l < r.layers.size(); ++l) kept[r.layers[l]] = r.kept[l];
  nlohmann::json j{{"model_file", path},
                   {"spec", nlohmann::json::parse(r.model->spec().to_json())},
                   {"kept", kept},
                   {"params", r.model->num_params()},
                   {"flops", r.model->flops()},
                   {"bytes_fp32", r.model->num_params() * 4},
                   {"test_accuracy", r.summary.final_accuracy},
                   {"model_checksum", r.summary.model_checksum}};
  const std::string text = j.dump() + "\n";
  return write_file_atomically(path + ".json", Bytes(text.begin(), text.end()));
}

}  // namespace xfed::app
