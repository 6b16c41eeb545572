#include "retry_policy.h"

#include <algorithm>

namespace vault_metadata {

bool is_retryable(ErrorClass error_class) noexcept {
    switch (error_class) {
        case ErrorClass::server:
        case ErrorClass::rate_limited:
        case ErrorClass::network:
            return true;
        default:
            return false;
    }
}

std::optional<int64_t> next_retry_delay_ms(const RetryPolicy& policy, ErrorClass error_class,
                                           int attempts_made, std::optional<int64_t> retry_after_seconds,
                                           int64_t remaining_ms, double unit_random) noexcept {
    if (!is_retryable(error_class) || attempts_made >= policy.max_attempts) return std::nullopt;
    int shift = std::clamp(attempts_made - 1, 0, 30);
    int64_t ceiling = std::min(policy.max_delay_ms, policy.base_delay_ms << shift);
    auto delay = static_cast<int64_t>(unit_random * static_cast<double>(ceiling + 1));
    delay = std::clamp<int64_t>(delay, 0, ceiling);
    if (retry_after_seconds) delay = std::max(delay, *retry_after_seconds * 1000);
    if (delay >= remaining_ms) return std::nullopt;
    return delay;
}

}  // namespace vault_metadata
