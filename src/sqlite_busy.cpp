#include "sqlite_busy.h"

#include <sqlite3.h>
#include <time.h>

#include <atomic>
#include <cstdint>

namespace vault_metadata {

namespace {

std::atomic<bool> g_shutting_down{false};
constexpr int64_t kShutdownWaitUs = 200 * 1000;

int wait_a_little(void* timeout_ms, int attempts) {
    // The first tries are the cheap ones; later ones sleep a little longer.
    const int64_t sleep_us = attempts < 20 ? 500 : 2000;
    const int64_t waited_us = attempts < 20 ? attempts * 500 : 20 * 500 + (attempts - 20) * 2000;
    if (waited_us >= static_cast<int64_t>(reinterpret_cast<intptr_t>(timeout_ms)) * 1000) return 0;
    if (waited_us >= kShutdownWaitUs && g_shutting_down.load(std::memory_order_relaxed)) return 0;
    timespec pause{0, static_cast<long>(sleep_us * 1000)};
    nanosleep(&pause, nullptr);
    return 1;
}

}  // namespace

void shorten_busy_waits() noexcept {
    g_shutting_down.store(true);
}

void set_busy_wait(sqlite3* db, int timeout_ms) {
    sqlite3_busy_handler(db, &wait_a_little, reinterpret_cast<void*>(static_cast<intptr_t>(timeout_ms)));
}

}  // namespace vault_metadata
