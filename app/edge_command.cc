#include "app/edge_command.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>

#include "app/edge_admission.h"
#include "app/interrupt.h"
#include "app/model_flag.h"
#include "app/resume_check.h"
#include "app/roles.h"
#include "app/run_outputs.h"
#include "app/run_setup.h"
#include "core/check.h"
#include "core/crypto.h"
#include "core/file_io.h"
#include "core/log.h"
#include "core/models/torchscript.h"
#include "core/parse.h"
#include "transport/zmq/curve_keys.h"
#include "transport/zmq/zmq_transport.h"
#include "worker/client_state_file.h"

namespace xfed::app {
namespace {

using std::chrono::milliseconds;
constexpr const char* kTransport = "edge (zmq)";

milliseconds ms(double seconds) { return milliseconds(static_cast<int64_t>(seconds * 1000)); }

// The value, or a usage error naming the flag that gave the file.
template <typename T>
T or_usage(Result<T> r, const char* flag) {
  if (!r) throw UsageError(std::string(flag) + " " + r.message());
  return std::move(r).value();
}

// The options both roles share: keys (unless --insecure), heartbeats.
transport::ZmqOptions base_options(const EdgeConfig& e, const char* role) {
  transport::ZmqOptions o;
  o.endpoint = e.endpoint;
  o.insecure = e.insecure;
  o.heartbeat = ms(e.heartbeat);
  o.liveness = static_cast<int>(e.liveness);
  if (e.insecure) {
    std::fprintf(stderr, "xfed: warning: --insecure: %s traffic is plaintext and workers are not "
                         "authenticated (anyone who reaches %s can join as any listed key)\n",
                 role, e.endpoint.c_str());
  } else if (e.key_file.empty()) {
    throw UsageError(std::string("xfed ") + role + " needs --key NAME.key (xfed keygen --out NAME), or --insecure");
  }
  if (e.key_file.empty() && std::string(role) == "worker")
    throw UsageError("xfed worker needs --key NAME.key: a worker is its public key (with --insecure too)");
  if (!e.key_file.empty()) o.keys = or_usage(transport::read_secret_key_file(e.key_file), "--key");
  return o;
}

void print_traffic(const transport::ZmqTransport& t) {
  const auto m = t.traffic();
  std::printf("zmq traffic at the coordinator: sent %llu messages (%llu bytes), received %llu messages (%llu bytes)\n",
              static_cast<unsigned long long>(m.messages_sent), static_cast<unsigned long long>(m.bytes_sent),
              static_cast<unsigned long long>(m.messages_received),
              static_cast<unsigned long long>(m.bytes_received));
}

std::string list_text(const std::vector<int64_t>& v) {
  std::string s;
  for (size_t i = 0; i < v.size() && i < 20; ++i) s += (i ? "," : "") + std::to_string(v[i]);
  return v.size() > 20 ? s + ",..." : s;
}

// Before round 1: every authorized worker, or as many as came within --wait-workers.
// Every connection, authenticated or not yet, holds a descriptor until its handshake
// succeeds or times out (10 s); at the limit libzmq retries its accepts (CPU) until timeouts
// free some. The coordinator takes the hard limit, so that only a flood reaches it.
void raise_open_file_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max) return;
  limit.rlim_cur = limit.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &limit) != 0) log_warning("could not raise the open-file limit; it stays at its soft value");
}

// Waits in slices of a second, so that an interrupt ends the wait too.
Status wait_for_every_worker(transport::ZmqTransport& t, double seconds) {
  const auto deadline = std::chrono::steady_clock::now() + ms(seconds);
  Status st = Status::ok();
  do {
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
    st = t.wait_for_workers(std::clamp(left, milliseconds(0), milliseconds(1000)));
    if (interrupted()) return Status::error(StatusCode::kInterrupted, "xfed coordinator: interrupted before round 1");
  } while (!st && std::chrono::steady_clock::now() < deadline);
  return st;
}

Status wait_for_workers(transport::ZmqTransport& t, const EdgeConfig& e, const EdgeAdmission& admission) {
  if (auto st = wait_for_every_worker(t, e.wait_workers); !st) {
    if (st.code() == StatusCode::kInterrupted) return st;
    int joined = 0;
    for (int r = 1; r < t.world_size(); ++r) joined += t.joins(r) > 0;
    const std::string within = " within " + exact_number(e.wait_workers) + " s";
    if (joined == 0) return Status::timeout("xfed coordinator: no worker joined at " + t.endpoint() + within);
    log_warning(std::to_string(t.world_size() - 1 - joined) + " of " + std::to_string(t.world_size() - 1) +
                " workers did not join" + within + "; starting without them (they train once they join)");
  }
  if (const auto idle = admission.unserved(); !idle.empty())
    log_warning("no worker serves client(s) " + list_text(idle) + " yet: they count as missing until one does");
  return Status::ok();
}

}  // namespace

int coordinator_command(RunConfig c, const EdgeConfig& e) {
  catch_interrupts();  // first: before any thread starts
  set_log_verbose(c.verbose);
  raise_open_file_limit();
  use_single_intraop_thread();
  c.transport = kTransport;
  check_output_paths(c);
  auto options = base_options(e, "coordinator");
  options.authorized = or_usage(transport::read_authorized_keys(e.authorized_keys), "--authorized-keys");
  if (options.authorized.empty()) throw UsageError(e.authorized_keys + ": no keys (--authorized-keys)");
  RunSetup setup = make_run_setup(c);
  auto admission = std::make_shared<EdgeAdmission>(c.clients, setup.coordinator.run_identity);
  options.admit = [admission](int rank, const Bytes& introduction) { return admission->admit(rank, introduction); };
  setup.coordinator.home_rank_of = [admission](int64_t client) { return admission->rank_of(client); };
  if (resolve_model_flag(c).scripted) {  // workers started without the archive get it
    setup.coordinator.model_code = torchscript_archive();
    setup.coordinator.wants_code = [admission](int rank) { return admission->wants_code(rank); };
  }
  setup.coordinator.stop_requested = [] { return interrupted() != 0; };
  auto made = transport::make_zmq_coordinator_transport(options);
  if (!made) throw UsageError("xfed coordinator: " + made.message());
  auto& t = *made.value();
  RunOutputs outputs(c, setup);
  const auto initial = make_initial_model(setup.spec, c.seed);
  if (!c.quiet)
    std::printf("xfed coordinator: %s, %s (%lld params), %lld clients; listening on %s for %d workers (%s)\n",
                c.dataset.c_str(), c.model.c_str(), static_cast<long long>(initial->num_params()),
                static_cast<long long>(c.clients), t.endpoint().c_str(), t.world_size() - 1,
                e.insecure ? "insecure" : "CURVE");
  std::fflush(stdout);
  if (auto st = wait_for_workers(t, e, *admission); !st) {
    log_error(st.message());
    return 1;
  }
  const int code = outputs.finish(run_coordinator(setup, initial, t, outputs.observers()));
  t.flush(options.linger);  // the workers' stop frames too
  if (!c.quiet) print_traffic(t);
  return code;
}

namespace {

// The clients a worker names (--client), or none for its own data (--data-dir alone).
std::vector<int64_t> worker_clients(const RunConfig& c, const EdgeConfig& e) {
  if (e.clients.empty()) {
    if (c.data_dir.empty())
      throw UsageError("xfed worker needs --client K[,K...] (partitions of the dataset) or --data-dir DIR "
                       "(this device's own data)");
    return {};
  }
  const auto clients = parse_int_list(e.clients, ',', 0, c.clients - 1);
  if (!clients)
    throw UsageError("--client '" + e.clients + "': expected K or K1,K2,... with each K in 0.." +
                     std::to_string(c.clients - 1) + " (--clients " + std::to_string(c.clients) + ")");
  return *clients;
}

transport::ZmqOptions worker_transport_options(const EdgeConfig& e) {
  auto options = base_options(e, "worker");
  if (!e.insecure) {
    if (e.server_key.empty()) throw UsageError("xfed worker needs --server-key (the coordinator's NAME.pub), or --insecure");
    options.server_public_key =
        transport::is_z85_key(e.server_key) ? e.server_key : or_usage(transport::read_public_key_file(e.server_key), "--server-key");
  }
  options.connect_timeout = ms(e.connect_timeout);
  options.reconnect_timeout = ms(e.reconnect_timeout);
  return options;
}

// A worker started with `--model torchscript` takes the coordinator's archive (the pin
// checked), then checks it on a batch of `spec`'s shape, as the coordinator did its file.
std::function<Status(std::shared_ptr<const std::string>)> code_acceptor(const RunConfig& c, const ModelSpec& spec) {
  return [model = resolve_model_flag(c), spec, quiet = c.quiet](std::shared_ptr<const std::string> archive) {
    const std::string source = "the model's code from the coordinator (" + std::to_string(archive->size()) + " bytes)";
    if (auto st = accept_model_code(model, archive, source); !st) return st;
    if (auto st = check_torchscript_model(spec, source); !st) return st;
    if (!quiet)
      std::printf("xfed worker: runs the coordinator's TorchScript archive, %zu bytes, sha256 %s\n", archive->size(),
                  hex_of(sha256(*archive)).c_str());
    return Status::ok();
  };
}

// The spec of a device's own data (its shape), for the check of a TorchScript archive.
ModelSpec own_data_spec(const RunConfig& c, const Dataset& train) {
  return make_spec(resolve_model_flag(c).arch, train.channels(), train.height(), train.width(), train.classes, {})
      .value_or_throw<UsageError>();
}

}  // namespace

int worker_command(RunConfig c, const EdgeConfig& e) {
  set_log_verbose(c.verbose);
  use_single_intraop_thread();
  c.transport = kTransport;
  if (c.resume)
    throw UsageError("xfed worker: --resume is the coordinator's flag (a worker restores its clients' state "
                     "when its coordinator resumes)");
  const auto clients = worker_clients(c, e);
  if (!c.metrics.empty() || !c.save_model.empty())
    log_warning("xfed worker: --metrics and --save-model are the coordinator's; this worker writes neither");
  if (!c.checkpoint_dir.empty()) check_output_dir(c.checkpoint_dir, "--checkpoint-dir").throw_as<UsageError>();
  auto options = worker_transport_options(e);
  // Partitions of a dataset: the run's setup, as simulate builds it. Own data: the whole
  // training set is this device's one client.
  std::optional<TrainTestData> own;
  RunSetup setup;
  if (clients.empty()) {
    own = load_data(c, /*with_test=*/false);
    setup.coordinator.run_identity = run_identity(c, own->train);
    if (resolve_model_flag(c).scripted) setup.spec = own_data_spec(c, own->train);
  } else {
    setup = make_run_setup(c, /*edge_worker=*/true);
  }
  const bool wants_code = resolve_model_flag(c).from_coordinator;
  options.introduction = encode_introduction({clients, setup.coordinator.run_identity, wants_code});
  auto made = transport::make_zmq_worker_transport(options);
  if (!made) {
    if (made.code() == StatusCode::kUsage) throw UsageError("xfed worker: " + made.message());
    log_error("xfed worker: " + made.message());
    return 1;
  }
  auto& t = *made.value();
  std::shared_ptr<const ClientDataSource> data = setup.clients;
  if (own) data = std::make_shared<const SingleClientData>(std::move(own->train), t.rank() - 1);
  if (!c.quiet)
    std::printf("xfed worker: %s of %d at %s, %s\n", transport::peer_name(t.rank()).c_str(), t.world_size() - 1,
                t.endpoint().c_str(),
                own ? ("its own data as client " + std::to_string(t.rank() - 1)).c_str()
                    : ("clients " + list_text(clients)).c_str());
  std::fflush(stdout);
  const auto& dir = c.checkpoint_dir;
  auto worker = worker_options(setup, std::make_shared<worker::ClientStateStore>(),
                               dir.empty() ? "" : worker::client_state_path(dir, t.rank()));
  worker.threads = c.threads > 0 ? static_cast<int>(c.threads) : 1;
  if (resolve_model_flag(c).scripted) worker.accept_code = code_acceptor(c, setup.spec);
  if (own) worker.run_identity.clear();  // its data differs by design; admission compared the rest
  const auto st = run_worker(std::move(data), t, worker);
  if (st) return 0;
  if (st.code() != StatusCode::kUsage) return 1;  // logged by run_worker
  std::fprintf(stderr, "xfed: error: %s\n", st.message().c_str());
  return 2;
}

}  // namespace xfed::app
