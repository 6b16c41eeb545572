#include "fork_guard.h"

namespace vault_metadata {

std::mutex& loop_work_guard() noexcept {
    static std::mutex guard;
    return guard;
}

void fork_guard_prepare() noexcept {
    loop_work_guard().lock();
}

void fork_guard_release() noexcept {
    // In the child the forking thread is the only thread, and it is the owner.
    loop_work_guard().unlock();
}

}  // namespace vault_metadata
