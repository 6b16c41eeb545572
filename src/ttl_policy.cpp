#include "ttl_policy.h"

#include <algorithm>

namespace vault_metadata {

namespace {

constexpr int64_t kHour = 3600;
constexpr int64_t kDay = 24 * kHour;

// The cap for this kind of video, in seconds.
int64_t cap_for(const VideoMeta& meta, int64_t now) noexcept {
    if (meta.live_broadcast_content == "live") return 60;
    if (meta.live_broadcast_content == "upcoming") return 300;
    const int64_t age = std::max<int64_t>(now - meta.published_at, 0);
    if (age < kHour) return 120;
    if (age < kDay) return 600;
    // More than 10,000 views an hour on average over its life: numbers move fast.
    if (meta.view_count && *meta.view_count / std::max<int64_t>(age / kHour, 1) > 10000) return 900;
    if (age < 7 * kDay) return 1800;
    return INT64_MAX;
}

}  // namespace

namespace {

// What is left of the row's freshness, rounded down to a step (60 s, or 10 s under ten
// minutes) so that an item's ttl changes once a minute, not every second: a worker can then
// hand out the same finished array all minute. Rounding down never promises more.
int64_t stepped(int64_t left) noexcept {
    if (left <= 0) return 0;
    const int64_t step = left >= 600 ? 60 : left >= 60 ? 10 : 1;
    return left - left % step;
}

}  // namespace

int64_t edge_ttl(const VideoMeta& meta, int64_t max_age, int64_t now, bool stale) noexcept {
    if (stale || max_age <= 0) return 0;
    const int64_t left = stepped(max_age - std::max<int64_t>(now - meta.fetched_at, 0));
    return std::clamp<int64_t>(std::min({max_age, left, cap_for(meta, now)}), 0, max_age);
}

}  // namespace vault_metadata
