// TaskPool: a fixed set of threads that run submitted jobs, for a worker rank that trains
// several of its clients at once (`--threads` under a multi-process transport). Each job
// gets the index of the thread that runs it, so per-thread state (a model instance) needs
// no lock. `thread_init` runs first on every thread (one LibTorch intra-op thread).
// drain() waits until every submitted job has finished; the destructor drains and joins.
// A job must not throw (the worker turns errors into failure frames itself).
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace xfed::worker {

class TaskPool {
 public:
  using Job = std::function<void(int thread)>;
  TaskPool(int threads, const std::function<void()>& thread_init);
  ~TaskPool();
  TaskPool(const TaskPool&) = delete;
  TaskPool& operator=(const TaskPool&) = delete;

  int threads() const { return static_cast<int>(threads_.size()); }
  void submit(Job job);
  void drain();

 private:
  void serve(int thread, const std::function<void()>& thread_init);

  std::mutex mu_;
  std::condition_variable work_, idle_;
  std::deque<Job> queue_;
  int running_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace xfed::worker
