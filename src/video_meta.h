// The metadata of one video as the core knows it: plain C++ data, no PHP.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace vault_metadata {

struct VideoMeta {
    std::string video_id;
    std::string title;
    std::string channel_id;
    std::string channel_title;
    std::optional<std::string> channel_handle;  // "@handle" once channels.list told us
    int64_t published_at = 0;                   // Unix seconds, fraction dropped
    int64_t duration_seconds = 0;
    std::optional<int64_t> view_count;
    std::optional<int64_t> like_count;
    std::optional<int64_t> comment_count;
    std::string category_id;
    std::string live_broadcast_content;  // none, live, upcoming
    bool age_restricted = false;
    bool licensed_content = false;
    bool embeddable = false;
    bool made_for_kids = false;
    std::string privacy_status;
    std::optional<std::vector<std::string>> allowed_countries;  // nullopt: no allow-list
    std::vector<std::string> blocked_countries;
    int64_t fetched_at = 0;  // Unix seconds of the upstream fetch

    bool operator==(const VideoMeta&) const = default;
};

// How an upstream exchange went wrong; also the label used in stats and logs.
enum class ErrorClass {
    none,
    timeout,         // transfer exceeded upstream_timeout_ms
    server,          // 5xx
    rate_limited,    // 429, or 403 rateLimitExceeded / userRateLimitExceeded
    quota,           // 403 quotaExceeded / dailyLimitExceeded
    bad_request,     // 400 (badRequest, keyInvalid, required, unknownPart, too many ids)
    forbidden,       // other 403
    malformed,       // 200 whose body is not the expected JSON
    network,         // connection refused, reset, dropped
};

const char* error_class_name(ErrorClass c) noexcept;

}  // namespace vault_metadata
