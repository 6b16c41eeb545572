// Reading what the YouTube Data API v3 answers: video and channel lists, the error envelope, and the
// date/duration formats inside them. Pure functions over bytes: no I/O, no threads, no PHP.
//
// Nothing here throws. Every parser answers "no" (false / nullopt) to input it does not understand, because a
// malformed upstream answer must cost a counted error, never a crashed PHP worker.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "video_meta.h"

namespace vault_metadata {

// error_class_name() (declared in video_meta.h, defined in youtube_api.cpp) gives each ErrorClass the label used
// in stats, logs and Prometheus (`error_class="..."`). The labels are the enumerator names and are stable:
//   none, timeout, server, rate_limited, quota, bad_request, forbidden, malformed, network
// An out-of-range value gives "unknown".

// Exactly 11 characters of A-Za-z0-9_- (the contract's definition of a video id).
bool is_valid_video_id(std::string_view id) noexcept;

// ISO 8601 duration as YouTube writes it: PT4M13S, PT1H2M, PT45S, P1DT2H3M4S, P0D, PT0S, P1W.
// Designators must appear in order (W, D, then after T: H, M, S), each at most once, with at least one
// component after P and after T. A fraction is allowed on seconds only ("PT1.9S" -> 1, '.' or ','), floored.
// Years and months are rejected (nullopt): YouTube never sends them and they have no fixed length in seconds.
// Negative durations, overflow of int64 seconds, lowercase designators and any other text give nullopt.
std::optional<int64_t> parse_iso8601_duration(std::string_view text) noexcept;

// RFC 3339 date-time -> Unix seconds (UTC): YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM).
// 't' and 'z' are accepted in lower case; the fraction is dropped (floored, also before 1970); calendar
// fields are range-checked (Feb 30 is rejected); second 60 (a leap second) is accepted and counts as the
// next minute's :00. No time zone database or timegm() is involved. Anything else gives nullopt.
std::optional<int64_t> parse_rfc3339_seconds(std::string_view text) noexcept;

// A 200 body of videos.list -> one VideoMeta per item, appended to `out` in the body's order (which is not the
// request order: match by video_id). fetched_at is set from the argument; channel_handle is left nullopt.
//
// All or nothing: on false, `out` is left exactly as it was and *error (if given) says why in a few words.
// The whole body fails when
//   - it is not JSON, the top level is not an object, or `items` is absent or not an array (an absent `items`
//     must not read as "every id is gone", which would negative-cache the whole chunk);
//   - an item is not an object, lacks a valid `id` (a string passing is_valid_video_id), or lacks `snippet`;
//   - a known field is present with the wrong JSON type, a count is not a non-negative integer that fits int64,
//     publishedAt is not RFC 3339, or duration is not an ISO 8601 duration parse_iso8601_duration accepts.
// A field that is absent, or JSON null, takes its default: strings "", counts nullopt, duration 0,
// published_at 0, booleans false, allowed_countries nullopt, blocked_countries empty. Counts are normally JSON
// strings ("123"); a JSON integer is accepted too. Unknown fields are ignored. Country codes are copied as given.
// Duplicate ids in one body are passed through as they come.
bool parse_videos_list(const std::string& body, int64_t fetched_at, std::vector<VideoMeta>& out,
                       std::string* error = nullptr);

// A 200 body of channels.list(part=snippet) -> (channel id, snippet.customUrl as given, e.g. "@handle"),
// appended to `channel_handles`. An item without snippet or customUrl (or with an empty one) is skipped.
// Same all-or-nothing rule and structural checks as parse_videos_list; a channel id must be a non-empty string.
bool parse_channels_list(const std::string& body,
                         std::vector<std::pair<std::string, std::string>>& channel_handles,
                         std::string* error = nullptr);

struct UpstreamError {
    ErrorClass error_class = ErrorClass::none;
    // error.errors[0].reason from the envelope ("quotaExceeded", "keyInvalid", ...), empty when the body has
    // none. Never the message: messages carry HTML and prose. Kept only when it is a plain token of at most
    // 64 characters of [A-Za-z0-9_.-], so it is safe in logs and metric labels.
    std::string reason;
};

// Classifies a completed HTTP exchange (transport failures are the caller's: timeout, network).
//   2xx                          -> none (the body is not looked at; a bad 200 is parse_videos_list's call)
//   any 4xx whose reason is quotaExceeded or dailyLimitExceeded           -> quota
//   any 4xx whose reason is rateLimitExceeded or userRateLimitExceeded    -> rate_limited
//   429 -> rate_limited;  401, other 403 -> forbidden;  408 -> timeout;  400 and other 4xx -> bad_request
//   5xx -> server;  anything else (1xx, 3xx, < 100, >= 600) -> malformed: not an answer the API gives
// An unparsable or non-envelope body still classifies by status, with an empty reason.
UpstreamError classify_http_response(long http_status, const std::string& body);

// Retry-After (RFC 9110): delta-seconds ("120") or an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") ->
// seconds to wait from `now` (Unix seconds), never negative (a date in the past gives 0). Surrounding spaces
// and tabs are ignored; month and day names match case-insensitively. Empty, negative, overflowing or
// otherwise invalid values (including the obsolete RFC 850 / asctime forms) give nullopt.
std::optional<int64_t> parse_retry_after(std::string_view header_value, int64_t now) noexcept;

}  // namespace vault_metadata
