#include "worker/task_pool.h"

#include "core/check.h"

namespace xfed::worker {

TaskPool::TaskPool(int threads, const std::function<void()>& thread_init) {
  XFED_CHECK_GE(threads, 1, "a task pool needs a thread");
  for (int t = 0; t < threads; ++t) threads_.emplace_back([this, t, thread_init] { serve(t, thread_init); });
}

TaskPool::~TaskPool() {
  drain();
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  work_.notify_all();
  for (auto& t : threads_) t.join();
}

void TaskPool::submit(Job job) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(std::move(job));
  }
  work_.notify_one();
}

void TaskPool::drain() {
  std::unique_lock<std::mutex> lock(mu_);
  idle_.wait(lock, [&] { return queue_.empty() && running_ == 0; });
}

void TaskPool::serve(int thread, const std::function<void()>& thread_init) {
  if (thread_init) thread_init();
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    work_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, nothing left
    Job job = std::move(queue_.front());
    queue_.pop_front();
    ++running_;
    lock.unlock();
    job(thread);
    lock.lock();
    --running_;
    if (queue_.empty() && running_ == 0) idle_.notify_all();
  }
}

}  // namespace xfed::worker
