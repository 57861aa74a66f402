// `xfed mpi` as users start it: real mpirun jobs of the real binary on this machine.
// One model on every transport (simulate and mpirun -np 2/3/5 end on the same checksum),
// a job killed mid-run and resumed ends on the uninterrupted checksum, the bytes handed to MPI
// are the bytes the metrics report, and each start-up error is one line and a non-zero exit.
// Every job is bounded (timeout), every process it started is ended by pid.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include "tests/cli_run.h"
#include "tests/test_util.h"

namespace xfed::testing {
namespace {

using namespace std::chrono_literals;

const std::string& kRun = kEveryStepRun;

std::string mpirun(int ranks) {
  return std::string(XFED_MPIEXEC) + " -np " + std::to_string(ranks) + " --oversubscribe " + XFED_BINARY + " mpi ";
}

Run shell(const std::string& command) { return run_command(command, 180); }

class MpiRun : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 0);  // CI runs as root
    setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 0);
  }
  void SetUp() override {
#ifndef XFED_MPIEXEC
    GTEST_SKIP() << "xfed was built without MPI";
#endif
  }
  TempDir dir_;
};

#ifdef XFED_MPIEXEC

TEST_F(MpiRun, OneModelOnEveryTransportAndNoHiddenBytes) {
  const auto sim = xfed("simulate " + kRun + "--quiet --metrics " + dir_.file("sim.jsonl"));
  ASSERT_EQ(sim.code, 0) << sim.out;
  const auto expected = checksum_of(dir_.file("sim.jsonl"));
  for (const std::string ranks_threads : {"2 1", "3 1", "5 1", "3 2"}) {
    const int ranks = ranks_threads[0] - '0';
    const std::string metrics = dir_.file("mpi" + std::to_string(ranks) + ".jsonl");
    const auto r = shell(mpirun(ranks) + kRun + "--threads " + ranks_threads.substr(2) + " --metrics " + metrics);
    ASSERT_EQ(r.code, 0) << r.out;
    // Open MPI gives its ranks a pseudo-terminal even when the job's output is a log.
    EXPECT_EQ(r.out.find("\033["), std::string::npos) << "a progress bar's escape codes in a redirected log";
    EXPECT_EQ(checksum_of(metrics), expected) << "mpirun -np " << ranks_threads;
    // Rank 0's MPI traffic is exactly the frames the metrics count.
    std::smatch m;
    ASSERT_TRUE(std::regex_search(r.out, m, std::regex(R"(sent \d+ frames \((\d+) bytes\), received \d+ frames \((\d+) bytes\))")))
        << r.out;
    const auto summary = read_jsonl(metrics).back();
    const int64_t counted = summary["total_bytes_up"].get<int64_t>() + summary["total_bytes_down"].get<int64_t>() +
                            summary["total_bytes_other"].get<int64_t>();
    EXPECT_EQ(std::stoll(m[1]) + std::stoll(m[2]), counted) << r.out;
  }
}

// The processes of a job: mpirun and its children (the ranks).
std::vector<pid_t> children_of(pid_t parent) {
  std::vector<pid_t> out;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    const auto close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 2));
    char state;
    int ppid;
    if (rest >> state >> ppid && ppid == parent) out.push_back(std::stoi(name));
  }
  return out;
}

bool gone(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return true;
  const auto close = line.rfind(')');
  return close != std::string::npos && line.size() > close + 2 && line[close + 2] == 'Z';
}

// SIGKILL to the whole job once the metrics show `round`; every process waited for.
void kill_job_after_round(const std::string& command, const std::string& metrics, int round) {
  const pid_t job = fork();
  ASSERT_GE(job, 0);
  if (job == 0) {
    setpgid(0, 0);
    execl("/bin/sh", "sh", "-c", ("exec " + command + " >/dev/null 2>&1").c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + 120s;
  while (std::chrono::steady_clock::now() < deadline && read_jsonl_lines(metrics) < round)
    std::this_thread::sleep_for(20ms);
  const auto ranks = children_of(job);
  kill(-job, SIGKILL);
  for (pid_t p : ranks) kill(p, SIGKILL);
  int status = 0;
  waitpid(job, &status, 0);
  for (pid_t p : ranks)
    for (int i = 0; i < 500 && !gone(p); ++i) std::this_thread::sleep_for(10ms);
  for (pid_t p : ranks) EXPECT_TRUE(gone(p)) << "rank process " << p << " outlived the kill";
  ASSERT_GE(read_jsonl_lines(metrics), round) << "the job never reached round " << round;
}

TEST_F(MpiRun, AJobKilledMidRunResumesToTheUninterruptedModel) {
  const std::string whole = dir_.file("whole.jsonl"), cut = dir_.file("cut.jsonl");
  const auto full = shell(mpirun(3) + kRun + "--quiet --metrics " + whole);
  ASSERT_EQ(full.code, 0) << full.out;
  const std::string checkpointed = kRun + "--quiet --checkpoint-dir " + dir_.file("ck") + " --metrics " + cut;
  kill_job_after_round(mpirun(3) + checkpointed, cut, 3);
  std::string files;
  for (const auto& f : std::filesystem::directory_iterator(dir_.file("ck"))) files += f.path().filename().string() + " ";
  for (int rank : {1, 2})  // the current file, or (killed between a rename and a write) the previous one
    EXPECT_NE(files.find("clients.rank" + std::to_string(rank) + ".xfed"), std::string::npos) << files;
  const auto resumed = shell(mpirun(3) + checkpointed + " --resume");
  ASSERT_EQ(resumed.code, 0) << resumed.out;
  EXPECT_EQ(checksum_of(cut), checksum_of(whole));
  EXPECT_EQ(read_jsonl(cut).size(), read_jsonl(whole).size()) << "one metrics line per round, no duplicates";
}

// The line xfed printed (mpirun adds its own banners), and the job's exit code.
void expect_job_error(const Run& r, const std::string& needle) {
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find(needle), std::string::npos) << r.out;
  size_t lines = 0;
  for (size_t at = r.out.find("xfed: error:"); at != std::string::npos; at = r.out.find("xfed: error:", at + 1)) ++lines;
  EXPECT_EQ(lines, 1u) << "one error line: " << r.out;
}

TEST_F(MpiRun, StartUpErrorsAreOneLineAndNonZero) {
  const std::string small = "--dataset synthetic --synthetic-train 600 --synthetic-test 100 --rounds 1 --quiet ";
  expect_job_error(shell(std::string(XFED_BINARY) + " mpi " + small),
                   "xfed mpi needs at least 2 ranks: rank 0 coordinates, the others train");
  expect_job_error(shell("env SLURM_NTASKS=4 " + std::string(XFED_BINARY) + " mpi " + small),
                   "SLURM_NTASKS is 4 but this MPI world has 1 rank");
  expect_job_error(shell(mpirun(4) + small + "--clients 2"), "3 worker ranks for --clients 2");
  // MPMD: rank 2 gets another learning rate
  expect_job_error(shell(mpirun(2) + small + "--lr 0.05 : -np 1 " + XFED_BINARY + " mpi " + small + "--lr 0.1"),
                   "worker 2 runs another configuration than the coordinator: --lr is '0.1' on worker 2 and "
                   "'0.05' on the coordinator");
  // A worker rank that cannot load its data says so through rank 0.
  expect_job_error(shell(mpirun(2) + small + ": -np 1 " + XFED_BINARY + " mpi " + small +
                         "--dataset mnist --data-dir " + dir_.path()),
                   "worker 2 could not start: ");
}

// launch/mpi.sh, and launch/slurm/xfed.sbatch both ways: with a (stub) srun that offers
// PMIx it hands the job to `srun --mpi=pmix`; without, it runs mpirun inside the allocation.
TEST_F(MpiRun, LaunchScriptsStartTheJob) {
  const std::string small = "--dataset synthetic --synthetic-train 600 --synthetic-test 100 --rounds 2 --quiet ";
  const std::string xfed_env = std::string("env XFED=") + XFED_BINARY + " ";
  auto r = shell(xfed_env + XFED_SOURCE_DIR "/launch/mpi.sh 3 " + small + "--metrics " + dir_.file("a.jsonl"));
  ASSERT_EQ(r.code, 0) << r.out;
  const auto expected = checksum_of(dir_.file("a.jsonl"));

  std::filesystem::create_directories(dir_.file("bin"));
  const auto stub = [&](const std::string& plugins) {
    std::ofstream(dir_.file("bin/srun")) << "#!/bin/sh\n"
                                         << "if [ \"$1\" = --mpi=list ]; then echo 'MPI plugin types are...'; echo "
                                         << plugins << "; exit 0; fi\n"
                                         << "echo \"$@\" > " << dir_.file("srun.args") << "\n";
    std::filesystem::permissions(dir_.file("bin/srun"), std::filesystem::perms::owner_all);
  };
  const std::string slurm = xfed_env + "PATH=" + dir_.file("bin") + ":$PATH SLURM_NTASKS=3 SLURM_CPUS_PER_TASK=2 " +
                            "OMPI_MCA_rmaps_base_oversubscribe=1 " XFED_SOURCE_DIR "/launch/slurm/xfed.sbatch " + small;
  stub("none");
  r = shell(slurm + "--metrics " + dir_.file("b.jsonl"));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(checksum_of(dir_.file("b.jsonl")), expected) << "2 threads per rank: the same model";
  stub("pmix");
  r = shell(slurm + "--metrics " + dir_.file("c.jsonl"));
  ASSERT_EQ(r.code, 0) << r.out;
  std::ifstream args(dir_.file("srun.args"));
  std::string line;
  std::getline(args, line);
  EXPECT_EQ(line.rfind(std::string("--mpi=pmix --ntasks=3 --cpus-per-task=2 ") + XFED_BINARY + " mpi --threads 2 ", 0), 0u)
      << line;
}

#endif

}  // namespace
}  // namespace xfed::testing
