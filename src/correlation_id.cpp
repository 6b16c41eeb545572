#include "correlation_id.h"

#include <sys/random.h>

#include <cstdint>
#include <cstring>
#include <mutex>
#include <new>

namespace vault_metadata {

namespace {

// Kernel randomness read 4 KiB at a time: one system call for 341 ids instead of one each.
// The buffer is emptied in the child after fork() (forget_correlation_randomness), so that
// parent and child never hand out the same bytes.
struct RandomPool {
    std::mutex mutex;
    uint8_t bytes[4096];
    size_t next = sizeof(bytes);
};

RandomPool& pool() {
    static RandomPool* p = new RandomPool();
    return *p;
}

void fill(uint8_t* out, size_t length) {
    size_t filled = 0;
    while (filled < length) {
        ssize_t got = getrandom(out + filled, length - filled, 0);
        if (got > 0) filled += static_cast<size_t>(got);
    }
}

}  // namespace

std::string new_correlation_id() {
    uint8_t bytes[12];
    {
        RandomPool& p = pool();
        std::lock_guard lock(p.mutex);
        if (p.next + sizeof(bytes) > sizeof(p.bytes)) {
            fill(p.bytes, sizeof(p.bytes));
            p.next = 0;
        }
        std::memcpy(bytes, p.bytes + p.next, sizeof(bytes));
        std::memset(p.bytes + p.next, 0, sizeof(bytes));  // used bytes do not linger
        p.next += sizeof(bytes);
    }
    static const char hex[] = "0123456789abcdef";
    std::string id(24, '0');
    for (size_t i = 0; i < sizeof(bytes); ++i) {
        id[2 * i] = hex[bytes[i] >> 4];
        id[2 * i + 1] = hex[bytes[i] & 15];
    }
    return id;
}

void forget_correlation_randomness() noexcept {
    // In the child of fork(): the only thread; the mutex may have been copied locked.
    RandomPool& p = pool();
    new (&p.mutex) std::mutex();
    std::memset(p.bytes, 0, sizeof(p.bytes));
    p.next = sizeof(p.bytes);
}

}  // namespace vault_metadata
