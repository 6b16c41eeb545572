// The wire protocol of the edge origin, POST /v1/metadata/batch: what the Cloudflare Worker sends and what it
// reads back. Pure functions over bytes: no I/O, no threads, no PHP.
//
// Request:  {"video_ids": [id, ...]} as msgpack (application/msgpack) or JSON (application/json).
// Answer:   {"fresh": [item], "stale_refreshed": [item], "stale": [item], "missing": [id], "quota_remaining": int}
//           in the request's encoding; an item is a map with exactly the 22 keys of a PHP item, in the
//           contract's order (the 19 stored payload keys, then ttl, fetched_at, stale).
// Error:    {"error": {"status": int, "code": token, "message": text}} in the request's encoding (JSON when the
//           content type itself was refused).
//
// Nothing here throws for bad input: a request is either parsed or refused with a RequestError.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "video_meta.h"

namespace vault_metadata::origin {

enum class Encoding { msgpack, json };

// The media type of a Content-Type header value -> the encoding it names, or nullopt (415).
// application/msgpack, application/x-msgpack and application/vnd.msgpack are msgpack; application/json is JSON.
// Case-insensitive; parameters after ';' (charset=...) and surrounding blanks are ignored.
std::optional<Encoding> encoding_of(std::string_view content_type) noexcept;

// The Content-Type of an answer: "application/msgpack" or "application/json; charset=utf-8".
const char* content_type_of(Encoding encoding) noexcept;

inline constexpr size_t kDefaultMaxBodyBytes = 64 * 1024;
inline constexpr size_t kDefaultMaxIds = 1000;
// Containers nested deeper than this are refused before msgpack-c sees them (the request needs depth 2).
inline constexpr size_t kMaxDepth = 8;

struct Limits {
    size_t max_body_bytes = kDefaultMaxBodyBytes;
    size_t max_ids = kDefaultMaxIds;  // distinct ids
};

// Why a request was refused. `code` is a stable token for machines; `message` is for people and never echoes
// the request's bytes.
//   415 unsupported_media_type   Content-Type is neither msgpack nor JSON
//   400 empty_body               no bytes
//   400 body_too_large           more than max_body_bytes
//   400 malformed_msgpack        not exactly one complete msgpack object (truncated, trailing bytes, too deep)
//   400 malformed_json           not JSON (or not UTF-8)
//   400 not_a_map                the top level is not a map / object
//   400 duplicate_key            a key appears twice
//   400 unknown_key              a key other than video_ids (also: a key that is not a string)
//   400 missing_video_ids        no video_ids key
//   400 video_ids_not_a_list     video_ids is not an array
//   400 id_not_a_string          an element is not a (UTF-8 str, not bin) string
//   400 invalid_id               an element is not 11 characters of A-Za-z0-9_-
//   400 too_many_ids             more than max_ids distinct ids
struct RequestError {
    int status = 400;
    std::string code;
    std::string message;
};

// The refusal for a Content-Type that encoding_of() does not know.
RequestError unsupported_media_type();
// The refusal for a body longer than the limit (also usable before reading a body whose declared length is).
RequestError body_too_large(const Limits& limits);

// Parses a request body. On success `ids` holds the distinct ids in order of first appearance (an empty list
// is a valid request). On failure `ids` is unspecified and `error` says why.
// msgpack is read with msgpack-c (msgpack_unpack_next into a zone) after a bounded pre-scan that refuses
// containers claiming more elements than bytes remain and nesting deeper than kMaxDepth, so the zone never
// holds more than a small multiple of the body. JSON is read with simdjson.
bool parse_request(std::string_view body, Encoding encoding, const Limits& limits, std::vector<std::string>& ids,
                   RequestError& error);

struct AnswerItem {
    const VideoMeta* meta = nullptr;  // fetched_at is taken from here
    int64_t ttl = 0;
};

struct Answer {
    std::vector<AnswerItem> fresh;            // stale => false
    std::vector<AnswerItem> stale_refreshed;  // stale => false
    std::vector<AnswerItem> stale;            // stale => true
    std::vector<std::string> missing;
    int64_t quota_remaining = 0;
};

// The answer body. In msgpack each item is the stored payload's map (encode_payload, spliced through
// payload_map_body) with ttl, fetched_at and stale appended. In JSON strings are UTF-8 with the escapes JSON
// requires (invalid UTF-8 becomes U+FFFD).
std::string encode_answer(const Answer& answer, Encoding encoding);

// The error body.
std::string encode_error(const RequestError& error, Encoding encoding);

}  // namespace vault_metadata::origin
