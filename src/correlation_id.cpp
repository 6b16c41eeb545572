#include "correlation_id.h"

#include <sys/random.h>

#include <cstdint>

namespace vault_metadata {

std::string new_correlation_id() {
    uint8_t bytes[12];
    size_t filled = 0;
    while (filled < sizeof(bytes)) {
        ssize_t got = getrandom(bytes + filled, sizeof(bytes) - filled, 0);
        if (got > 0) filled += static_cast<size_t>(got);
    }
    static const char hex[] = "0123456789abcdef";
    std::string id(24, '0');
    for (size_t i = 0; i < sizeof(bytes); ++i) {
        id[2 * i] = hex[bytes[i] >> 4];
        id[2 * i + 1] = hex[bytes[i] & 15];
    }
    return id;
}

}  // namespace vault_metadata
