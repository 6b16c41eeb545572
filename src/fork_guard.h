// fork() copies only the forking thread. If the loop thread is inside SQLite, libcurl or
// OpenSSL at that moment, the child inherits their global locks held forever, and its
// first database open deadlocks. So the loop thread does all its work holding this
// guard, and fork() waits for it: the prepare handler takes it, both sides release it.
#pragma once

#include <mutex>

namespace vault_metadata {

std::mutex& loop_work_guard() noexcept;

// Held by the loop thread around every callback that calls into a library.
class LoopWorkScope {
public:
    LoopWorkScope() : lock_(loop_work_guard()) {}

private:
    std::lock_guard<std::mutex> lock_;
};

// pthread_atfork handlers.
void fork_guard_prepare() noexcept;
void fork_guard_release() noexcept;

}  // namespace vault_metadata
