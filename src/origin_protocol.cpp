#include "origin_protocol.h"

#include <msgpack.h>
#include <simdjson.h>

#include <array>
#include <cstring>
#include <exception>
#include <unordered_set>

#include "payload_codec.h"
#include "youtube_api.h"

namespace vault_metadata::origin {

namespace {

// ------------------------------------------------------------------------------------------ content types

char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
        if (lower(a[i]) != lower(b[i])) return false;
    }
    return true;
}

std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

RequestError refuse(std::string code, std::string message) {
    return RequestError{400, std::move(code), std::move(message)};
}

// ------------------------------------------------------------------------------------------ msgpack pre-scan
//
// msgpack-c allocates a container's element storage from the header's count before reading the elements, so a
// 5-byte array header can ask for 100 GB. This scan walks the structure first, without recursion, and refuses
// a container that claims more elements than bytes remain (every element takes at least one byte) or nests
// deeper than kMaxDepth. After it, msgpack-c's zone stays within a small multiple of the body size.

enum class Scan { ok, truncated, too_deep, bad_byte, overlong_container };

template <typename T>
bool read_be(const uint8_t*& p, const uint8_t* end, size_t n, T& out) noexcept {
    if (static_cast<size_t>(end - p) < n) return false;
    T v = 0;
    for (size_t i = 0; i < n; ++i) v = static_cast<T>((v << 8) | p[i]);
    p += n;
    out = v;
    return true;
}

Scan prescan(std::string_view body, size_t& consumed) noexcept {
    const auto* start = reinterpret_cast<const uint8_t*>(body.data());
    const uint8_t* p = start;
    const uint8_t* end = p + body.size();
    std::array<uint64_t, kMaxDepth + 1> remaining{};
    size_t depth = 0;
    remaining[0] = 1;
    for (;;) {
        while (depth > 0 && remaining[depth] == 0) --depth;
        if (depth == 0 && remaining[0] == 0) break;
        --remaining[depth];
        if (p == end) return Scan::truncated;
        const uint8_t b = *p++;
        uint64_t payload = 0;   // bytes to step over
        uint64_t elements = 0;  // objects inside a container
        bool container = false;
        uint32_t n = 0;
        if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3) {
            continue;
        } else if ((b & 0xf0) == 0x80) {
            container = true;
            elements = 2u * (b & 0x0fu);
        } else if ((b & 0xf0) == 0x90) {
            container = true;
            elements = b & 0x0fu;
        } else if ((b & 0xe0) == 0xa0) {
            payload = b & 0x1fu;
        } else {
            switch (b) {
                case 0xc4: case 0xd9: if (!read_be(p, end, 1, n)) return Scan::truncated; payload = n; break;
                case 0xc5: case 0xda: if (!read_be(p, end, 2, n)) return Scan::truncated; payload = n; break;
                case 0xc6: case 0xdb: if (!read_be(p, end, 4, n)) return Scan::truncated; payload = n; break;
                case 0xc7: if (!read_be(p, end, 1, n)) return Scan::truncated; payload = uint64_t{n} + 1; break;
                case 0xc8: if (!read_be(p, end, 2, n)) return Scan::truncated; payload = uint64_t{n} + 1; break;
                case 0xc9: if (!read_be(p, end, 4, n)) return Scan::truncated; payload = uint64_t{n} + 1; break;
                case 0xca: case 0xce: case 0xd2: payload = 4; break;
                case 0xcb: case 0xcf: case 0xd3: payload = 8; break;
                case 0xcc: case 0xd0: payload = 1; break;
                case 0xcd: case 0xd1: payload = 2; break;
                case 0xd4: payload = 2; break;
                case 0xd5: payload = 3; break;
                case 0xd6: payload = 5; break;
                case 0xd7: payload = 9; break;
                case 0xd8: payload = 17; break;
                case 0xdc: if (!read_be(p, end, 2, n)) return Scan::truncated; container = true; elements = n; break;
                case 0xdd: if (!read_be(p, end, 4, n)) return Scan::truncated; container = true; elements = n; break;
                case 0xde: if (!read_be(p, end, 2, n)) return Scan::truncated; container = true; elements = 2 * uint64_t{n}; break;
                case 0xdf: if (!read_be(p, end, 4, n)) return Scan::truncated; container = true; elements = 2 * uint64_t{n}; break;
                default: return Scan::bad_byte;  // 0xc1 is never used
            }
        }
        if (container) {
            if (elements == 0) continue;
            if (elements > static_cast<uint64_t>(end - p)) return Scan::overlong_container;
            if (depth + 1 > kMaxDepth) return Scan::too_deep;
            remaining[++depth] = elements;
            continue;
        }
        if (static_cast<uint64_t>(end - p) < payload) return Scan::truncated;
        p += payload;
    }
    consumed = static_cast<size_t>(p - start);
    return Scan::ok;
}

// ------------------------------------------------------------------------------------------ request parsing

// Collects the ids of video_ids; `get` reads element i as a string or says it is not one.
class IdCollector {
public:
    IdCollector(const Limits& limits, std::vector<std::string>& ids) : limits_(limits), ids_(ids) {
        ids_.clear();
    }

    bool add(std::string_view id, size_t index, RequestError& error) {
        if (!is_valid_video_id(id)) {
            error = refuse("invalid_id", "video_ids[" + std::to_string(index) +
                                             "] is not a YouTube video id (11 characters of A-Za-z0-9_-)");
            return false;
        }
        if (!seen_.insert(id).second) return true;
        if (seen_.size() > limits_.max_ids) {
            error = refuse("too_many_ids",
                           "video_ids holds more than " + std::to_string(limits_.max_ids) + " distinct ids");
            return false;
        }
        ids_.emplace_back(id);
        return true;
    }

private:
    const Limits& limits_;
    std::vector<std::string>& ids_;
    std::unordered_set<std::string_view> seen_;  // views into the body, which outlives the collector
};

RequestError not_a_string(size_t index) {
    return refuse("id_not_a_string", "video_ids[" + std::to_string(index) + "] is not a string");
}

constexpr std::string_view kVideoIds = "video_ids";

bool parse_msgpack(std::string_view body, const Limits& limits, std::vector<std::string>& ids,
                   RequestError& error) {
    size_t consumed = 0;
    switch (prescan(body, consumed)) {
        case Scan::ok: break;
        case Scan::truncated: error = refuse("malformed_msgpack", "the msgpack body is truncated"); return false;
        case Scan::too_deep: error = refuse("malformed_msgpack", "the msgpack body nests too deep"); return false;
        case Scan::bad_byte: error = refuse("malformed_msgpack", "the msgpack body holds an invalid byte"); return false;
        case Scan::overlong_container:
            error = refuse("malformed_msgpack", "a msgpack container claims more elements than the body holds");
            return false;
    }
    if (consumed != body.size()) {
        error = refuse("malformed_msgpack", "the body holds bytes after one msgpack object");
        return false;
    }

    msgpack_unpacked unpacked;
    msgpack_unpacked_init(&unpacked);
    struct Guard {
        msgpack_unpacked* u;
        ~Guard() { msgpack_unpacked_destroy(u); }
    } guard{&unpacked};
    size_t offset = 0;
    const msgpack_unpack_return rc = msgpack_unpack_next(&unpacked, body.data(), body.size(), &offset);
    if (rc != MSGPACK_UNPACK_SUCCESS || offset != body.size()) {
        error = refuse("malformed_msgpack", "the body is not one complete msgpack object");
        return false;
    }
    const msgpack_object& root = unpacked.data;
    if (root.type != MSGPACK_OBJECT_MAP) {
        error = refuse("not_a_map", "the body must be a map {\"video_ids\": [...]}");
        return false;
    }
    const msgpack_object* list = nullptr;
    for (uint32_t i = 0; i < root.via.map.size; ++i) {
        const msgpack_object_kv& kv = root.via.map.ptr[i];
        if (kv.key.type != MSGPACK_OBJECT_STR ||
            std::string_view(kv.key.via.str.ptr, kv.key.via.str.size) != kVideoIds) {
            error = refuse("unknown_key", "the only key allowed is \"video_ids\"");
            return false;
        }
        if (list) {
            error = refuse("duplicate_key", "\"video_ids\" appears twice");
            return false;
        }
        list = &kv.val;
    }
    if (!list) {
        error = refuse("missing_video_ids", "the map has no \"video_ids\" key");
        return false;
    }
    if (list->type != MSGPACK_OBJECT_ARRAY) {
        error = refuse("video_ids_not_a_list", "\"video_ids\" must be an array of strings");
        return false;
    }
    IdCollector collector(limits, ids);
    for (uint32_t i = 0; i < list->via.array.size; ++i) {
        const msgpack_object& e = list->via.array.ptr[i];
        if (e.type != MSGPACK_OBJECT_STR) {
            error = not_a_string(i);
            return false;
        }
        if (!collector.add(std::string_view(e.via.str.ptr, e.via.str.size), i, error)) return false;
    }
    return true;
}

bool parse_json(std::string_view body, const Limits& limits, std::vector<std::string>& ids, RequestError& error) {
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    if (parser.parse(body.data(), body.size(), true).get(root) != simdjson::SUCCESS) {
        error = refuse("malformed_json", "the body is not JSON");
        return false;
    }
    simdjson::dom::object top;
    if (root.get_object().get(top) != simdjson::SUCCESS) {
        error = refuse("not_a_map", "the body must be an object {\"video_ids\": [...]}");
        return false;
    }
    simdjson::dom::element list_element;
    bool found = false;
    for (simdjson::dom::key_value_pair field : top) {
        if (field.key != kVideoIds) {
            error = refuse("unknown_key", "the only key allowed is \"video_ids\"");
            return false;
        }
        if (found) {
            error = refuse("duplicate_key", "\"video_ids\" appears twice");
            return false;
        }
        found = true;
        list_element = field.value;
    }
    if (!found) {
        error = refuse("missing_video_ids", "the object has no \"video_ids\" key");
        return false;
    }
    simdjson::dom::array list;
    if (list_element.get_array().get(list) != simdjson::SUCCESS) {
        error = refuse("video_ids_not_a_list", "\"video_ids\" must be an array of strings");
        return false;
    }
    // The collector keeps views: into the parser's string buffer, alive until we return.
    IdCollector collector(limits, ids);
    size_t index = 0;
    for (simdjson::dom::element e : list) {
        std::string_view id;
        if (e.get_string().get(id) != simdjson::SUCCESS) {
            error = not_a_string(index);
            return false;
        }
        if (!collector.add(id, index, error)) return false;
        ++index;
    }
    return true;
}

// ------------------------------------------------------------------------------------------ msgpack encoding

int append_to_string(void* data, const char* buf, size_t len) {
    static_cast<std::string*>(data)->append(buf, len);
    return 0;
}

class Packer {
public:
    explicit Packer(std::string& out) : out_(out) { msgpack_packer_init(&pk_, &out, append_to_string); }

    void map(size_t n) { msgpack_pack_map(&pk_, n); }
    void array(size_t n) { msgpack_pack_array(&pk_, n); }
    void str(std::string_view s) { msgpack_pack_str_with_body(&pk_, s.data(), s.size()); }
    void integer(int64_t v) { msgpack_pack_int64(&pk_, v); }
    void boolean(bool b) { b ? msgpack_pack_true(&pk_) : msgpack_pack_false(&pk_); }
    void raw(std::string_view bytes) { out_.append(bytes); }

private:
    std::string& out_;
    msgpack_packer pk_{};
};

void pack_item(Packer& pk, const AnswerItem& item, bool stale) {
    const std::string payload = encode_payload(*item.meta);
    PayloadMapBody body;
    if (payload_map_body(payload, body)) {
        // The stored form's pairs, spliced as they are, then the three keys computed at serve time.
        pk.map(body.pair_count + 3u);
        pk.raw(body.pairs);
    } else {  // cannot happen with our own encoder; an item with the serve-time keys only is still well-formed
        pk.map(3);
    }
    pk.str("ttl");
    pk.integer(item.ttl);
    pk.str("fetched_at");
    pk.integer(item.meta->fetched_at);
    pk.str("stale");
    pk.boolean(stale);
}

void pack_list(Packer& pk, std::string_view key, const std::vector<AnswerItem>& items, bool stale) {
    pk.str(key);
    pk.array(items.size());
    for (const AnswerItem& item : items) pack_item(pk, item, stale);
}

// ------------------------------------------------------------------------------------------ JSON encoding

// Appends s as a JSON string. Valid UTF-8 passes through; each invalid byte becomes U+FFFD.
void json_string(std::string& out, std::string_view s) {
    static const char hex[] = "0123456789abcdef";
    out += '"';
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const size_t n = s.size();
    size_t i = 0;
    while (i < n) {
        const unsigned char c = p[i];
        if (c < 0x80) {
            switch (c) {
                case '"': out += "\\\""; break;
                case '\\': out += "\\\\"; break;
                case '\b': out += "\\b"; break;
                case '\f': out += "\\f"; break;
                case '\n': out += "\\n"; break;
                case '\r': out += "\\r"; break;
                case '\t': out += "\\t"; break;
                default:
                    if (c < 0x20) {
                        out += "\\u00";
                        out += hex[c >> 4];
                        out += hex[c & 15];
                    } else {
                        out += static_cast<char>(c);
                    }
            }
            ++i;
            continue;
        }
        // Length and the allowed range of the second byte (RFC 3629, no surrogates, no overlongs).
        size_t len = 0;
        unsigned char lo = 0x80, hi = 0xbf;
        if (c >= 0xc2 && c <= 0xdf) {
            len = 2;
        } else if (c >= 0xe0 && c <= 0xef) {
            len = 3;
            if (c == 0xe0) lo = 0xa0;
            if (c == 0xed) hi = 0x9f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            len = 4;
            if (c == 0xf0) lo = 0x90;
            if (c == 0xf4) hi = 0x8f;
        }
        bool valid = len != 0 && i + len <= n && p[i + 1] >= lo && p[i + 1] <= hi;
        for (size_t k = 2; valid && k < len; ++k) valid = p[i + k] >= 0x80 && p[i + k] <= 0xbf;
        if (valid) {
            out.append(s.data() + i, len);
            i += len;
        } else {
            out += "\xef\xbf\xbd";
            ++i;
        }
    }
    out += '"';
}

class JsonWriter {
public:
    explicit JsonWriter(std::string& out) : out_(out) {}

    void key(std::string_view k) {
        comma();
        json_string(out_, k);
        out_ += ':';
        first_ = true;  // the value that follows takes no comma
        after_key_ = true;
    }
    void str(std::string_view s) { value(); json_string(out_, s); }
    void integer(int64_t v) { value(); out_ += std::to_string(v); }
    void boolean(bool b) { value(); out_ += b ? "true" : "false"; }
    void null() { value(); out_ += "null"; }
    void opt_str(const std::optional<std::string>& s) { s ? str(*s) : null(); }
    void opt_int(const std::optional<int64_t>& v) { v ? integer(*v) : null(); }
    void begin_object() { value(); out_ += '{'; first_ = true; }
    void end_object() { out_ += '}'; first_ = false; }
    void begin_array() { value(); out_ += '['; first_ = true; }
    void end_array() { out_ += ']'; first_ = false; }
    void list(const std::vector<std::string>& l) {
        begin_array();
        for (const std::string& s : l) str(s);
        end_array();
    }

private:
    void comma() {
        if (!first_) out_ += ',';
    }
    void value() {
        if (after_key_) {
            after_key_ = false;
        } else {
            comma();
        }
        first_ = false;
    }

    std::string& out_;
    bool first_ = true;
    bool after_key_ = false;
};

void json_item(JsonWriter& w, const AnswerItem& item, bool stale) {
    const VideoMeta& m = *item.meta;
    w.begin_object();
    w.key("video_id"); w.str(m.video_id);
    w.key("title"); w.str(m.title);
    w.key("channel_id"); w.str(m.channel_id);
    w.key("channel_title"); w.str(m.channel_title);
    w.key("channel_handle"); w.opt_str(m.channel_handle);
    w.key("published_at"); w.integer(m.published_at);
    w.key("duration_seconds"); w.integer(m.duration_seconds);
    w.key("view_count"); w.opt_int(m.view_count);
    w.key("like_count"); w.opt_int(m.like_count);
    w.key("comment_count"); w.opt_int(m.comment_count);
    w.key("category_id"); w.str(m.category_id);
    w.key("live_broadcast_content"); w.str(m.live_broadcast_content);
    w.key("age_restricted"); w.boolean(m.age_restricted);
    w.key("licensed_content"); w.boolean(m.licensed_content);
    w.key("embeddable"); w.boolean(m.embeddable);
    w.key("made_for_kids"); w.boolean(m.made_for_kids);
    w.key("privacy_status"); w.str(m.privacy_status);
    w.key("allowed_countries");
    if (m.allowed_countries) {
        w.list(*m.allowed_countries);
    } else {
        w.null();
    }
    w.key("blocked_countries"); w.list(m.blocked_countries);
    w.key("ttl"); w.integer(item.ttl);
    w.key("fetched_at"); w.integer(m.fetched_at);
    w.key("stale"); w.boolean(stale);
    w.end_object();
}

void json_list(JsonWriter& w, std::string_view key, const std::vector<AnswerItem>& items, bool stale) {
    w.key(key);
    w.begin_array();
    for (const AnswerItem& item : items) json_item(w, item, stale);
    w.end_array();
}

}  // namespace

std::optional<Encoding> encoding_of(std::string_view content_type) noexcept {
    const size_t semicolon = content_type.find(';');
    const std::string_view media = trim(content_type.substr(0, semicolon));
    if (iequals(media, "application/msgpack") || iequals(media, "application/x-msgpack") ||
        iequals(media, "application/vnd.msgpack")) {
        return Encoding::msgpack;
    }
    if (iequals(media, "application/json")) return Encoding::json;
    return std::nullopt;
}

const char* content_type_of(Encoding encoding) noexcept {
    return encoding == Encoding::msgpack ? "application/msgpack" : "application/json; charset=utf-8";
}

RequestError unsupported_media_type() {
    return RequestError{415, "unsupported_media_type",
                        "Content-Type must be application/msgpack or application/json"};
}

RequestError body_too_large(const Limits& limits) {
    return refuse("body_too_large", "the body is larger than " + std::to_string(limits.max_body_bytes) + " bytes");
}

bool parse_request(std::string_view body, Encoding encoding, const Limits& limits, std::vector<std::string>& ids,
                   RequestError& error) {
    try {
        if (body.empty()) {
            error = refuse("empty_body", "the body is empty; send {\"video_ids\": [...]}");
            return false;
        }
        if (body.size() > limits.max_body_bytes) {
            error = body_too_large(limits);
            return false;
        }
        return encoding == Encoding::msgpack ? parse_msgpack(body, limits, ids, error)
                                             : parse_json(body, limits, ids, error);
    } catch (const std::exception&) {  // allocation failure: bounded by the body size, but memory is not
        error = RequestError{400, "body_too_large", "the body could not be held in memory"};
        return false;
    }
}

std::string encode_answer(const Answer& answer, Encoding encoding) {
    std::string out;
    const size_t items = answer.fresh.size() + answer.stale_refreshed.size() + answer.stale.size();
    out.reserve(128 + items * 560 + answer.missing.size() * 16);
    if (encoding == Encoding::msgpack) {
        Packer pk(out);
        pk.map(5);
        pack_list(pk, "fresh", answer.fresh, false);
        pack_list(pk, "stale_refreshed", answer.stale_refreshed, false);
        pack_list(pk, "stale", answer.stale, true);
        pk.str("missing");
        pk.array(answer.missing.size());
        for (const std::string& id : answer.missing) pk.str(id);
        pk.str("quota_remaining");
        pk.integer(answer.quota_remaining);
        return out;
    }
    JsonWriter w(out);
    w.begin_object();
    json_list(w, "fresh", answer.fresh, false);
    json_list(w, "stale_refreshed", answer.stale_refreshed, false);
    json_list(w, "stale", answer.stale, true);
    w.key("missing");
    w.list(answer.missing);
    w.key("quota_remaining");
    w.integer(answer.quota_remaining);
    w.end_object();
    return out;
}

std::string encode_error(const RequestError& error, Encoding encoding) {
    std::string out;
    if (encoding == Encoding::msgpack) {
        Packer pk(out);
        pk.map(1);
        pk.str("error");
        pk.map(3);
        pk.str("status");
        pk.integer(error.status);
        pk.str("code");
        pk.str(error.code);
        pk.str("message");
        pk.str(error.message);
        return out;
    }
    JsonWriter w(out);
    w.begin_object();
    w.key("error");
    w.begin_object();
    w.key("status"); w.integer(error.status);
    w.key("code"); w.str(error.code);
    w.key("message"); w.str(error.message);
    w.end_object();
    w.end_object();
    return out;
}

}  // namespace vault_metadata::origin
