// PeriodicThread: a background thread that runs a task once per period until
// it is stopped (the database's GC and graph checkpoint threads).
//
// Thread-safety: Start and Stop are called by the owner (one thread);
// Stopping may be called from the task, between its steps, to end a long
// round early. Stop wakes the thread from its wait, joins it, and returns
// once the task has returned; the destructor stops it too.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace verity {

class PeriodicThread {
 public:
  PeriodicThread() = default;
  PeriodicThread(const PeriodicThread&) = delete;
  PeriodicThread& operator=(const PeriodicThread&) = delete;
  ~PeriodicThread() { Stop(); }

  // Runs `task` after each `period`, the first time one period from now.
  void Start(std::chrono::milliseconds period, std::function<void()> task) {
    thread_ = std::thread([this, period, task = std::move(task)] {
      std::unique_lock lock(mu_);
      while (!cv_.wait_for(lock, period, [&] { return stop_; })) {
        lock.unlock();
        task();
        lock.lock();
      }
    });
  }

  // Whether Stop has been called: a task checks it between steps.
  bool Stopping() const {
    std::lock_guard lock(mu_);
    return stop_;
  }

  void Stop() {
    if (!thread_.joinable()) return;
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  std::thread thread_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;  // GUARDED_BY(mu_)
};

}  // namespace verity
