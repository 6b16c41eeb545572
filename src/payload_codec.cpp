#include "payload_codec.h"

#include <msgpack.h>

#include <array>
#include <exception>

namespace vault_metadata {

namespace {

// Indexes into kKeys; the order is the contract's and the encoder's.
enum Key : uint32_t {
    k_video_id,
    k_title,
    k_channel_id,
    k_channel_title,
    k_channel_handle,
    k_published_at,
    k_duration_seconds,
    k_view_count,
    k_like_count,
    k_comment_count,
    k_category_id,
    k_live_broadcast_content,
    k_age_restricted,
    k_licensed_content,
    k_embeddable,
    k_made_for_kids,
    k_privacy_status,
    k_allowed_countries,
    k_blocked_countries,
    k_count,
};

constexpr std::array<std::string_view, k_count> kKeys{
    "video_id",       "title",         "channel_id",     "channel_title",     "channel_handle",
    "published_at",   "duration_seconds", "view_count",  "like_count",        "comment_count",
    "category_id",    "live_broadcast_content", "age_restricted", "licensed_content", "embeddable",
    "made_for_kids",  "privacy_status", "allowed_countries", "blocked_countries",
};
static_assert(k_count == kPayloadKeyCount);
constexpr uint32_t kAllKeys = (1u << k_count) - 1;

// ------------------------------------------------------------------------------------------------ encoding

int append_to_string(void* data, const char* buf, size_t len) {
    static_cast<std::string*>(data)->append(buf, len);
    return 0;
}

class Writer {
public:
    explicit Writer(std::string& out) { msgpack_packer_init(&pk_, &out, append_to_string); }

    void map(size_t n) { msgpack_pack_map(&pk_, n); }
    void key(Key k) { str(kKeys[k]); }
    void str(std::string_view s) { msgpack_pack_str_with_body(&pk_, s.data(), s.size()); }
    void integer(int64_t v) { msgpack_pack_int64(&pk_, v); }
    void boolean(bool b) { b ? msgpack_pack_true(&pk_) : msgpack_pack_false(&pk_); }
    void nil() { msgpack_pack_nil(&pk_); }
    void opt_str(const std::optional<std::string>& s) { s ? str(*s) : nil(); }
    void opt_int(const std::optional<int64_t>& v) { v ? integer(*v) : nil(); }
    void list(const std::vector<std::string>& l) {
        msgpack_pack_array(&pk_, l.size());
        for (const std::string& s : l) str(s);
    }

private:
    msgpack_packer pk_{};
};

}  // namespace

std::string encode_payload(const VideoMeta& m) {
    std::string out;
    out.reserve(320 + m.title.size() + m.channel_title.size());
    Writer w(out);
    w.map(k_count);
    w.key(k_video_id); w.str(m.video_id);
    w.key(k_title); w.str(m.title);
    w.key(k_channel_id); w.str(m.channel_id);
    w.key(k_channel_title); w.str(m.channel_title);
    w.key(k_channel_handle); w.opt_str(m.channel_handle);
    w.key(k_published_at); w.integer(m.published_at);
    w.key(k_duration_seconds); w.integer(m.duration_seconds);
    w.key(k_view_count); w.opt_int(m.view_count);
    w.key(k_like_count); w.opt_int(m.like_count);
    w.key(k_comment_count); w.opt_int(m.comment_count);
    w.key(k_category_id); w.str(m.category_id);
    w.key(k_live_broadcast_content); w.str(m.live_broadcast_content);
    w.key(k_age_restricted); w.boolean(m.age_restricted);
    w.key(k_licensed_content); w.boolean(m.licensed_content);
    w.key(k_embeddable); w.boolean(m.embeddable);
    w.key(k_made_for_kids); w.boolean(m.made_for_kids);
    w.key(k_privacy_status); w.str(m.privacy_status);
    w.key(k_allowed_countries);
    if (m.allowed_countries) {
        w.list(*m.allowed_countries);
    } else {
        w.nil();
    }
    w.key(k_blocked_countries); w.list(m.blocked_countries);
    return out;
}

// ------------------------------------------------------------------------------------------------ decoding
//
// A hand-written reader rather than msgpack_unpack: the payload has one fixed shape, and reading it in place
// avoids building a msgpack_object tree in a zone on every warm read. Every read checks the remaining length
// first; nothing here can step outside [p_, end_).

namespace {

class Reader {
public:
    Reader(const char* data, size_t len)
        : p_(reinterpret_cast<const uint8_t*>(data)), end_(reinterpret_cast<const uint8_t*>(data) + len) {}

    bool at_end() const { return p_ == end_; }
    const uint8_t* position() const { return p_; }

    bool map_header(uint32_t& n) {
        uint8_t b = 0;
        if (!byte(b)) return false;
        if ((b & 0xf0) == 0x80) {
            n = b & 0x0fu;
            return true;
        }
        if (b == 0xde) return be(n, 2);
        if (b == 0xdf) return be(n, 4);
        return false;
    }

    bool array_header(uint32_t& n) {
        uint8_t b = 0;
        if (!byte(b)) return false;
        if ((b & 0xf0) == 0x90) {
            n = b & 0x0fu;
            return true;
        }
        if (b == 0xdc) return be(n, 2);
        if (b == 0xdd) return be(n, 4);
        return false;
    }

    bool str(std::string_view& s) {
        uint8_t b = 0;
        if (!byte(b)) return false;
        uint32_t n = 0;
        if ((b & 0xe0) == 0xa0) {
            n = b & 0x1fu;
        } else if (b == 0xd9) {
            if (!be(n, 1)) return false;
        } else if (b == 0xda) {
            if (!be(n, 2)) return false;
        } else if (b == 0xdb) {
            if (!be(n, 4)) return false;
        } else {
            return false;
        }
        if (static_cast<size_t>(end_ - p_) < n) return false;
        s = std::string_view(reinterpret_cast<const char*>(p_), n);
        p_ += n;
        return true;
    }

    // Consumes a nil if one is next.
    bool nil() {
        if (p_ < end_ && *p_ == 0xc0) {
            ++p_;
            return true;
        }
        return false;
    }

    bool boolean(bool& v) {
        uint8_t b = 0;
        if (!byte(b) || (b != 0xc2 && b != 0xc3)) return false;
        v = b == 0xc3;
        return true;
    }

    bool integer(int64_t& v) {
        uint8_t b = 0;
        if (!byte(b)) return false;
        if (b <= 0x7f) {
            v = b;
            return true;
        }
        if (b >= 0xe0) {
            v = static_cast<int8_t>(b);
            return true;
        }
        uint64_t u = 0;
        switch (b) {
            case 0xcc: if (!be(u, 1)) return false; v = static_cast<int64_t>(u); return true;
            case 0xcd: if (!be(u, 2)) return false; v = static_cast<int64_t>(u); return true;
            case 0xce: if (!be(u, 4)) return false; v = static_cast<int64_t>(u); return true;
            case 0xcf:
                if (!be(u, 8) || u > static_cast<uint64_t>(INT64_MAX)) return false;
                v = static_cast<int64_t>(u);
                return true;
            case 0xd0: if (!be(u, 1)) return false; v = static_cast<int8_t>(u); return true;
            case 0xd1: if (!be(u, 2)) return false; v = static_cast<int16_t>(u); return true;
            case 0xd2: if (!be(u, 4)) return false; v = static_cast<int32_t>(u); return true;
            case 0xd3: if (!be(u, 8)) return false; v = static_cast<int64_t>(u); return true;
            default: return false;
        }
    }

    // Skips whole objects without recursion: `pending` counts objects still to skip, and every object
    // consumes at least one byte, so the loop ends within len iterations whatever the headers claim.
    bool skip(uint64_t pending) {
        while (pending > 0) {
            --pending;
            uint8_t b = 0;
            if (!byte(b)) return false;
            uint64_t payload = 0;  // bytes of data to step over
            uint32_t n = 0;
            if (b <= 0x7f || b >= 0xe0 || (b >= 0xc0 && b <= 0xc3 && b != 0xc1)) {
                continue;
            } else if ((b & 0xf0) == 0x80) {
                pending += 2u * (b & 0x0fu);
                continue;
            } else if ((b & 0xf0) == 0x90) {
                pending += b & 0x0fu;
                continue;
            } else if ((b & 0xe0) == 0xa0) {
                payload = b & 0x1fu;
            } else {
                switch (b) {
                    case 0xc4: case 0xd9: if (!be(n, 1)) return false; payload = n; break;
                    case 0xc5: case 0xda: if (!be(n, 2)) return false; payload = n; break;
                    case 0xc6: case 0xdb: if (!be(n, 4)) return false; payload = n; break;
                    case 0xc7: if (!be(n, 1)) return false; payload = uint64_t{n} + 1; break;
                    case 0xc8: if (!be(n, 2)) return false; payload = uint64_t{n} + 1; break;
                    case 0xc9: if (!be(n, 4)) return false; payload = uint64_t{n} + 1; break;
                    case 0xca: payload = 4; break;
                    case 0xcb: payload = 8; break;
                    case 0xcc: case 0xd0: payload = 1; break;
                    case 0xcd: case 0xd1: payload = 2; break;
                    case 0xce: case 0xd2: payload = 4; break;
                    case 0xcf: case 0xd3: payload = 8; break;
                    case 0xd4: payload = 2; break;
                    case 0xd5: payload = 3; break;
                    case 0xd6: payload = 5; break;
                    case 0xd7: payload = 9; break;
                    case 0xd8: payload = 17; break;
                    case 0xdc: if (!be(n, 2)) return false; pending += n; continue;
                    case 0xdd: if (!be(n, 4)) return false; pending += n; continue;
                    case 0xde: if (!be(n, 2)) return false; pending += 2 * uint64_t{n}; continue;
                    case 0xdf: if (!be(n, 4)) return false; pending += 2 * uint64_t{n}; continue;
                    default: return false;  // 0xc1 is never used
                }
            }
            if (static_cast<uint64_t>(end_ - p_) < payload) return false;
            p_ += payload;
        }
        return true;
    }

private:
    bool byte(uint8_t& b) {
        if (p_ == end_) return false;
        b = *p_++;
        return true;
    }

    template <typename T>
    bool be(T& v, size_t n) {
        if (static_cast<size_t>(end_ - p_) < n) return false;
        T r = 0;
        for (size_t i = 0; i < n; ++i) r = static_cast<T>((r << 8) | p_[i]);
        p_ += n;
        v = r;
        return true;
    }

    const uint8_t* p_;
    const uint8_t* end_;
};

// The encoder writes keys in kKeys order, so the expected key is tried first and the scan is the fallback.
int find_key(std::string_view k, uint32_t expected) {
    if (expected < k_count && kKeys[expected] == k) return static_cast<int>(expected);
    for (uint32_t i = 0; i < k_count; ++i) {
        if (kKeys[i] == k) return static_cast<int>(i);
    }
    return -1;
}

bool read_string(Reader& r, std::string& out) {
    std::string_view s;
    if (!r.str(s)) return false;
    out.assign(s.data(), s.size());
    return true;
}

bool read_list(Reader& r, std::vector<std::string>& out) {
    uint32_t n = 0;
    if (!r.array_header(n)) return false;
    // Shrinks or grows to n keeping existing strings, so their buffers are reused.
    if (out.size() > n) out.resize(n);
    for (uint32_t i = 0; i < n; ++i) {
        std::string_view s;
        if (!r.str(s)) return false;
        if (i < out.size()) {
            out[i].assign(s.data(), s.size());
        } else {
            out.emplace_back(s);
        }
    }
    return true;
}

bool read_opt_int(Reader& r, std::optional<int64_t>& out) {
    if (r.nil()) {
        out.reset();
        return true;
    }
    int64_t v = 0;
    if (!r.integer(v)) return false;
    out = v;
    return true;
}

bool read_value(Reader& r, Key k, VideoMeta& m) {
    switch (k) {
        case k_video_id: return read_string(r, m.video_id);
        case k_title: return read_string(r, m.title);
        case k_channel_id: return read_string(r, m.channel_id);
        case k_channel_title: return read_string(r, m.channel_title);
        case k_channel_handle:
            if (r.nil()) {
                m.channel_handle.reset();
                return true;
            }
            if (!m.channel_handle) m.channel_handle.emplace();
            return read_string(r, *m.channel_handle);
        case k_published_at: return r.integer(m.published_at);
        case k_duration_seconds: return r.integer(m.duration_seconds);
        case k_view_count: return read_opt_int(r, m.view_count);
        case k_like_count: return read_opt_int(r, m.like_count);
        case k_comment_count: return read_opt_int(r, m.comment_count);
        case k_category_id: return read_string(r, m.category_id);
        case k_live_broadcast_content: return read_string(r, m.live_broadcast_content);
        case k_age_restricted: return r.boolean(m.age_restricted);
        case k_licensed_content: return r.boolean(m.licensed_content);
        case k_embeddable: return r.boolean(m.embeddable);
        case k_made_for_kids: return r.boolean(m.made_for_kids);
        case k_privacy_status: return read_string(r, m.privacy_status);
        case k_allowed_countries:
            if (r.nil()) {
                m.allowed_countries.reset();
                return true;
            }
            if (!m.allowed_countries) m.allowed_countries.emplace();
            return read_list(r, *m.allowed_countries);
        case k_blocked_countries: return read_list(r, m.blocked_countries);
        case k_count: break;
    }
    return false;
}

bool decode_into(const char* data, size_t len, VideoMeta& out) {
    Reader r(data, len);
    uint32_t pairs = 0;
    if (!r.map_header(pairs)) return false;
    uint32_t seen = 0;
    for (uint32_t i = 0; i < pairs; ++i) {
        std::string_view key;
        if (!r.str(key)) return false;
        const int k = find_key(key, i);
        if (k < 0) {
            if (!r.skip(1)) return false;
            continue;
        }
        const uint32_t bit = 1u << k;
        if (seen & bit) return false;
        seen |= bit;
        if (!read_value(r, static_cast<Key>(k), out)) return false;
    }
    return seen == kAllKeys && r.at_end();
}

}  // namespace

bool decode_payload(const char* data, size_t len, VideoMeta& out) {
    if (data == nullptr && len != 0) return false;
    try {
        return decode_into(data, len, out);
    } catch (const std::exception&) {  // allocation failure: strings are bounded by len, but memory is not
        return false;
    }
}

bool payload_map_body(std::string_view payload, PayloadMapBody& out) {
    Reader r(payload.data(), payload.size());
    uint32_t pairs = 0;
    if (!r.map_header(pairs)) return false;
    const size_t header = static_cast<size_t>(r.position() - reinterpret_cast<const uint8_t*>(payload.data()));
    if (!r.skip(2 * uint64_t{pairs}) || !r.at_end()) return false;
    out.pair_count = pairs;
    out.pairs = payload.substr(header);
    return true;
}

}  // namespace vault_metadata
