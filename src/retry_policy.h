// When to try an upstream call again, and after how long.
#pragma once

#include <cstdint>
#include <optional>

#include "video_meta.h"

namespace vault_metadata {

struct RetryPolicy {
    int max_attempts = 4;          // the first try included
    int64_t base_delay_ms = 250;   // doubles on every attempt
    int64_t max_delay_ms = 8000;   // cap of the exponential part
};

// Whether an error class is worth another attempt: 5xx, 429 / rateLimitExceeded and
// dropped connections are; quota, 400, 403 and malformed answers never are.
bool is_retryable(ErrorClass error_class) noexcept;

// The delay before attempt `attempts_made + 1`, or nullopt when there is none: the error is
// final, the attempts are spent, or the delay would end past `remaining_ms`. Full jitter:
// uniform in [0, min(cap, base * 2^(attempts_made - 1))], raised to Retry-After when given.
// `unit_random` is a uniform draw in [0, 1).
std::optional<int64_t> next_retry_delay_ms(const RetryPolicy& policy, ErrorClass error_class,
                                           int attempts_made, std::optional<int64_t> retry_after_seconds,
                                           int64_t remaining_ms, double unit_random) noexcept;

}  // namespace vault_metadata
