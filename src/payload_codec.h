// The stored form of a VideoMeta: one msgpack map whose keys are the PHP item keys.
//
// The map is exactly what an item looks like on the wire minus the three keys computed at serve time
// (ttl, fetched_at, stale), so an HTTP origin can splice the stored bytes into a msgpack response map
// (payload_map_body) and append those three pairs without decoding anything. fetched_at lives in its own
// column, not in the payload.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "video_meta.h"

namespace vault_metadata {

// Number of pairs encode_payload writes.
inline constexpr uint32_t kPayloadKeyCount = 19;

// Writes the map with the keys in the contract's order: video_id, title, channel_id, channel_title,
// channel_handle, published_at, duration_seconds, view_count, like_count, comment_count, category_id,
// live_broadcast_content, age_restricted, licensed_content, embeddable, made_for_kids, privacy_status,
// allowed_countries, blocked_countries. Absent optionals are nil; lists are arrays of str; integers use the
// smallest msgpack form. m.fetched_at is not written.
std::string encode_payload(const VideoMeta& m);

// Reads a payload back into `out` (every field but fetched_at, which is left untouched). Key order does not
// matter and unknown keys are skipped, whatever their value, so a newer writer does not break an older reader.
// Returns false -- never throws, never reads out of bounds -- when the input is not exactly one map (trailing
// bytes included), a key is not a str, a key appears twice, one of the 19 keys is missing, or a value has the
// wrong type (strings must be str, not bin; integers must fit int64; nil only where the item allows null).
// On false, `out` holds a mix of old and new values: discard it. Reusing one VideoMeta across calls reuses
// its string capacity, which is what keeps the warm path free of most allocations.
bool decode_payload(const char* data, size_t len, VideoMeta& out);

struct PayloadMapBody {
    uint32_t pair_count = 0;
    std::string_view pairs;  // the key/value bytes after the map header; points into the payload
};

// Splits a payload into its map header and the raw pairs that follow, for splicing into a larger map.
// Checks the structure (pair_count complete msgpack key/value pairs, nothing after them) but not the keys.
bool payload_map_body(std::string_view payload, PayloadMapBody& out);

}  // namespace vault_metadata
