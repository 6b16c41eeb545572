#include "youtube_api.h"

#include <simdjson.h>

#include <array>
#include <charconv>
#include <exception>
#include <limits>

namespace vault_metadata {

const char* error_class_name(ErrorClass c) noexcept {
    switch (c) {
        case ErrorClass::none: return "none";
        case ErrorClass::timeout: return "timeout";
        case ErrorClass::server: return "server";
        case ErrorClass::rate_limited: return "rate_limited";
        case ErrorClass::quota: return "quota";
        case ErrorClass::bad_request: return "bad_request";
        case ErrorClass::forbidden: return "forbidden";
        case ErrorClass::malformed: return "malformed";
        case ErrorClass::network: return "network";
    }
    return "unknown";
}

namespace {

// The id alphabet as a table: checked for every id of every call, warm ones included.
struct IdAlphabet {
    bool allowed[256] = {};
    constexpr IdAlphabet() {
        for (int c = 'A'; c <= 'Z'; ++c) allowed[c] = true;
        for (int c = 'a'; c <= 'z'; ++c) allowed[c] = true;
        for (int c = '0'; c <= '9'; ++c) allowed[c] = true;
        allowed[static_cast<unsigned char>('_')] = true;
        allowed[static_cast<unsigned char>('-')] = true;
    }
};
constexpr IdAlphabet kIdAlphabet;

}  // namespace

bool is_valid_video_id(std::string_view id) noexcept {
    if (id.size() != 11) return false;
    bool ok = true;
    for (char c : id) ok &= kIdAlphabet.allowed[static_cast<unsigned char>(c)];
    return ok;
}

namespace {

constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

// Howard Hinnant's days_from_civil: proleptic Gregorian date -> days since 1970-01-01, for any year,
// without the process time zone (timegm and mktime consult TZ and are not what a server should depend on).
constexpr int64_t days_from_civil(int64_t y, int64_t m, int64_t d) noexcept {
    y -= m <= 2 ? 1 : 0;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const int64_t yoe = y - era * 400;
    const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}
static_assert(days_from_civil(1970, 1, 1) == 0);
static_assert(days_from_civil(2000, 3, 1) == 11017);

constexpr bool is_leap(int64_t y) noexcept { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

constexpr int64_t days_in_month(int64_t y, int64_t m) noexcept {
    constexpr std::array<int64_t, 12> days{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : days[static_cast<size_t>(m - 1)];
}

// Reads exactly n digits at s[i..], advancing i.
bool fixed_digits(std::string_view s, size_t& i, size_t n, int64_t& v) noexcept {
    if (i > s.size() || s.size() - i < n) return false;
    int64_t r = 0;
    for (size_t k = 0; k < n; ++k) {
        const char c = s[i + k];
        if (!is_digit(c)) return false;
        r = r * 10 + (c - '0');
    }
    v = r;
    i += n;
    return true;
}

bool expect(std::string_view s, size_t& i, char c) noexcept {
    if (i >= s.size() || s[i] != c) return false;
    ++i;
    return true;
}

// Seconds since the epoch of a validated UTC civil time; callers have range-checked every field.
int64_t civil_seconds(int64_t y, int64_t mo, int64_t d, int64_t h, int64_t mi, int64_t s) noexcept {
    return days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
}

char ascii_lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
        if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
    }
    return true;
}

std::string_view trim_ows(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

}  // namespace

std::optional<int64_t> parse_iso8601_duration(std::string_view s) noexcept {
    if (s.size() < 3 || s[0] != 'P') return std::nullopt;
    // Rank enforces the designator order W < D < (T) H < M < S and forbids repeats.
    int last_rank = -1;
    bool in_time = false;
    bool time_has_component = false;
    bool has_component = false;
    int64_t total = 0;
    size_t i = 1;
    while (i < s.size()) {
        if (s[i] == 'T') {
            if (in_time) return std::nullopt;
            in_time = true;
            ++i;
            continue;
        }
        if (!is_digit(s[i])) return std::nullopt;
        int64_t value = 0;
        while (i < s.size() && is_digit(s[i])) {
            if (__builtin_mul_overflow(value, int64_t{10}, &value) ||
                __builtin_add_overflow(value, int64_t{s[i] - '0'}, &value)) {
                return std::nullopt;
            }
            ++i;
        }
        bool has_fraction = false;
        if (i < s.size() && (s[i] == '.' || s[i] == ',')) {
            ++i;
            if (i >= s.size() || !is_digit(s[i])) return std::nullopt;
            while (i < s.size() && is_digit(s[i])) ++i;  // floored: the fraction never adds a whole second
            has_fraction = true;
        }
        if (i >= s.size()) return std::nullopt;
        const char designator = s[i++];
        int rank = 0;
        int64_t unit = 0;
        if (!in_time) {
            switch (designator) {
                case 'W': rank = 0; unit = 7 * 86400; break;
                case 'D': rank = 1; unit = 86400; break;
                default: return std::nullopt;  // Y and M (months) included: see the header
            }
        } else {
            switch (designator) {
                case 'H': rank = 2; unit = 3600; break;
                case 'M': rank = 3; unit = 60; break;
                case 'S': rank = 4; unit = 1; break;
                default: return std::nullopt;
            }
            time_has_component = true;
        }
        if (rank <= last_rank) return std::nullopt;
        if (has_fraction && designator != 'S') return std::nullopt;
        last_rank = rank;
        has_component = true;
        int64_t part = 0;
        if (__builtin_mul_overflow(value, unit, &part) || __builtin_add_overflow(total, part, &total)) {
            return std::nullopt;
        }
    }
    if (!has_component || (in_time && !time_has_component)) return std::nullopt;
    return total;
}

std::optional<int64_t> parse_rfc3339_seconds(std::string_view s) noexcept {
    size_t i = 0;
    int64_t year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
    if (!fixed_digits(s, i, 4, year) || !expect(s, i, '-') || !fixed_digits(s, i, 2, month) ||
        !expect(s, i, '-') || !fixed_digits(s, i, 2, day)) {
        return std::nullopt;
    }
    if (i >= s.size() || (s[i] != 'T' && s[i] != 't')) return std::nullopt;
    ++i;
    if (!fixed_digits(s, i, 2, hour) || !expect(s, i, ':') || !fixed_digits(s, i, 2, minute) ||
        !expect(s, i, ':') || !fixed_digits(s, i, 2, second)) {
        return std::nullopt;
    }
    if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) || hour > 23 || minute > 59 ||
        second > 60) {
        return std::nullopt;
    }
    if (i < s.size() && s[i] == '.') {
        ++i;
        if (i >= s.size() || !is_digit(s[i])) return std::nullopt;
        while (i < s.size() && is_digit(s[i])) ++i;
    }
    if (i >= s.size()) return std::nullopt;
    int64_t offset = 0;
    if (s[i] == 'Z' || s[i] == 'z') {
        ++i;
    } else if (s[i] == '+' || s[i] == '-') {
        const int64_t sign = s[i] == '-' ? -1 : 1;
        ++i;
        int64_t oh = 0, om = 0;
        if (!fixed_digits(s, i, 2, oh) || !expect(s, i, ':') || !fixed_digits(s, i, 2, om)) return std::nullopt;
        if (oh > 23 || om > 59) return std::nullopt;
        offset = sign * (oh * 3600 + om * 60);
    } else {
        return std::nullopt;
    }
    if (i != s.size()) return std::nullopt;
    // Local time = UTC + offset, so UTC = local - offset. Dropping the fraction of a whole-second civil time
    // floors it, for dates before 1970 as well.
    return civil_seconds(year, month, day, hour, minute, second) - offset;
}

std::optional<int64_t> parse_retry_after(std::string_view header_value, int64_t now) noexcept {
    const std::string_view v = trim_ows(header_value);
    if (v.empty()) return std::nullopt;
    if (is_digit(v[0])) {
        int64_t delta = 0;
        const auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), delta);
        if (ec != std::errc{} || ptr != v.data() + v.size()) return std::nullopt;
        return delta;
    }
    // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT", exactly 29 characters.
    static constexpr std::array<std::string_view, 7> kDays{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
    static constexpr std::array<std::string_view, 12> kMonths{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                              "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    if (v.size() != 29) return std::nullopt;
    bool day_ok = false;
    for (std::string_view d : kDays) day_ok = day_ok || iequals(v.substr(0, 3), d);
    if (!day_ok || v.substr(3, 2) != ", " || v[7] != ' ' || v[11] != ' ' || v[16] != ' ' ||
        v.substr(25) != " GMT") {
        return std::nullopt;
    }
    int64_t month = 0;
    for (size_t m = 0; m < kMonths.size(); ++m) {
        if (iequals(v.substr(8, 3), kMonths[m])) month = static_cast<int64_t>(m) + 1;
    }
    size_t i = 5;
    int64_t day = 0, year = 0, hour = 0, minute = 0, second = 0;
    if (!fixed_digits(v, i, 2, day)) return std::nullopt;
    i = 12;
    if (!fixed_digits(v, i, 4, year) || !expect(v, i, ' ') || !fixed_digits(v, i, 2, hour) ||
        !expect(v, i, ':') || !fixed_digits(v, i, 2, minute) || !expect(v, i, ':') ||
        !fixed_digits(v, i, 2, second)) {
        return std::nullopt;
    }
    if (month == 0 || day < 1 || day > days_in_month(year, month) || hour > 23 || minute > 59 || second > 60) {
        return std::nullopt;
    }
    const int64_t at = civil_seconds(year, month, day, hour, minute, second);
    return at > now ? at - now : 0;
}

// ---------------------------------------------------------------------------------------------------------
// JSON

namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

// simdjson reads up to SIMDJSON_PADDING bytes past the end. A std::string whose spare capacity covers that is
// parsed in place; otherwise the parser copies it into its own padded buffer (parse(..., realloc=true)).
simdjson::error_code parse_body(simdjson::dom::parser& parser, const std::string& body, element& root) {
    if (body.capacity() - body.size() >= simdjson::SIMDJSON_PADDING) {
        return parser.parse(simdjson::padded_string_view(body.data(), body.size(), body.capacity())).get(root);
    }
    return parser.parse(body.data(), body.size(), true).get(root);
}

enum class Field { absent, ok, bad };

// Absent and JSON null are the same thing to us: YouTube omits rather than nulls, and a null is no value.
Field lookup(const object& o, std::string_view key, element& out) {
    auto r = o.at_key(key);
    if (r.error() == simdjson::NO_SUCH_FIELD) return Field::absent;
    if (r.get(out) != simdjson::SUCCESS) return Field::bad;
    return out.is_null() ? Field::absent : Field::ok;
}

Field get_string(const object& o, std::string_view key, std::string_view& out) {
    element e;
    const Field f = lookup(o, key, e);
    if (f != Field::ok) return f;
    return e.get_string().get(out) == simdjson::SUCCESS ? Field::ok : Field::bad;
}

Field get_object(const object& o, std::string_view key, object& out) {
    element e;
    const Field f = lookup(o, key, e);
    if (f != Field::ok) return f;
    return e.get_object().get(out) == simdjson::SUCCESS ? Field::ok : Field::bad;
}

// Bounded error text: keys are ours, so the message never echoes upstream content.
void set_error(std::string* error, std::string_view what, size_t item = std::numeric_limits<size_t>::max()) {
    if (!error) return;
    if (item == std::numeric_limits<size_t>::max()) {
        error->assign(what);
    } else {
        *error = "items[" + std::to_string(item) + "]: ";
        error->append(what);
    }
}

// The root object's `items` array; absent `items` is malformed, not empty (see the header).
bool items_of(simdjson::dom::parser& parser, const std::string& body, array& items, std::string* error) {
    element root;
    const simdjson::error_code ec = parse_body(parser, body, root);
    if (ec != simdjson::SUCCESS) {
        set_error(error, std::string("not JSON: ") + simdjson::error_message(ec));
        return false;
    }
    object top;
    if (root.get_object().get(top) != simdjson::SUCCESS) {
        set_error(error, "top level is not an object");
        return false;
    }
    element e;
    const Field f = lookup(top, "items", e);
    if (f == Field::absent) {
        set_error(error, "no items");
        return false;
    }
    if (f == Field::bad || e.get_array().get(items) != simdjson::SUCCESS) {
        set_error(error, "items is not an array");
        return false;
    }
    return true;
}

class ItemReader {
public:
    ItemReader(VideoMeta& m, size_t index, std::string* error) : m_(m), index_(index), error_(error) {}

    bool read(const element& item) {
        object o;
        if (item.get_object().get(o) != simdjson::SUCCESS) return fail("not an object");
        std::string_view id;
        if (get_string(o, "id", id) != Field::ok || !is_valid_video_id(id)) return fail("no valid id");
        m_.video_id.assign(id);

        object snippet;
        const Field sf = get_object(o, "snippet", snippet);
        if (sf != Field::ok) return fail("no snippet object");
        if (!str(snippet, "title", m_.title) || !str(snippet, "channelId", m_.channel_id) ||
            !str(snippet, "channelTitle", m_.channel_title) || !str(snippet, "categoryId", m_.category_id) ||
            !str(snippet, "liveBroadcastContent", m_.live_broadcast_content)) {
            return false;
        }
        std::string_view published;
        switch (get_string(snippet, "publishedAt", published)) {
            case Field::absent: break;
            case Field::bad: return fail("publishedAt is not a string");
            case Field::ok: {
                const auto t = parse_rfc3339_seconds(published);
                if (!t) return fail("publishedAt is not RFC 3339");
                m_.published_at = *t;
            }
        }

        object details;
        switch (get_object(o, "contentDetails", details)) {
            case Field::absent: break;
            case Field::bad: return fail("contentDetails is not an object");
            case Field::ok:
                if (!read_content_details(details)) return false;
        }

        object stats;
        switch (get_object(o, "statistics", stats)) {
            case Field::absent: break;
            case Field::bad: return fail("statistics is not an object");
            case Field::ok:
                if (!count(stats, "viewCount", m_.view_count) || !count(stats, "likeCount", m_.like_count) ||
                    !count(stats, "commentCount", m_.comment_count)) {
                    return false;
                }
        }

        object status;
        switch (get_object(o, "status", status)) {
            case Field::absent: break;
            case Field::bad: return fail("status is not an object");
            case Field::ok:
                if (!boolean(status, "embeddable", m_.embeddable) ||
                    !boolean(status, "madeForKids", m_.made_for_kids) ||
                    !str(status, "privacyStatus", m_.privacy_status)) {
                    return false;
                }
        }
        return true;
    }

private:
    bool read_content_details(const object& details) {
        std::string_view duration;
        switch (get_string(details, "duration", duration)) {
            case Field::absent: break;  // an ongoing premiere has none: 0
            case Field::bad: return fail("duration is not a string");
            case Field::ok: {
                const auto d = parse_iso8601_duration(duration);
                if (!d) return fail("duration is not ISO 8601");
                m_.duration_seconds = *d;
            }
        }
        if (!boolean(details, "licensedContent", m_.licensed_content)) return false;

        object rating;
        switch (get_object(details, "contentRating", rating)) {
            case Field::absent: break;
            case Field::bad: return fail("contentRating is not an object");
            case Field::ok: {
                std::string_view yt;
                const Field f = get_string(rating, "ytRating", yt);
                if (f == Field::bad) return fail("ytRating is not a string");
                m_.age_restricted = f == Field::ok && yt == "ytAgeRestricted";
            }
        }

        object region;
        switch (get_object(details, "regionRestriction", region)) {
            case Field::absent: break;
            case Field::bad: return fail("regionRestriction is not an object");
            case Field::ok: {
                element e;
                switch (lookup(region, "allowed", e)) {
                    case Field::absent: break;
                    case Field::bad: return fail("allowed is unreadable");
                    case Field::ok:
                        m_.allowed_countries.emplace();
                        if (!countries(e, *m_.allowed_countries)) return fail("allowed is not a list of strings");
                }
                switch (lookup(region, "blocked", e)) {
                    case Field::absent: break;
                    case Field::bad: return fail("blocked is unreadable");
                    case Field::ok:
                        if (!countries(e, m_.blocked_countries)) return fail("blocked is not a list of strings");
                }
            }
        }
        return true;
    }

    static bool countries(const element& e, std::vector<std::string>& out) {
        array list;
        if (e.get_array().get(list) != simdjson::SUCCESS) return false;
        for (element c : list) {
            std::string_view code;
            if (c.get_string().get(code) != simdjson::SUCCESS) return false;
            out.emplace_back(code);
        }
        return true;
    }

    bool str(const object& o, std::string_view key, std::string& out) {
        std::string_view v;
        const Field f = get_string(o, key, v);
        if (f == Field::bad) return fail_key(key, "is not a string");
        if (f == Field::ok) out.assign(v);
        return true;
    }

    bool boolean(const object& o, std::string_view key, bool& out) {
        element e;
        const Field f = lookup(o, key, e);
        if (f == Field::absent) return true;
        if (f == Field::bad || e.get_bool().get(out) != simdjson::SUCCESS) return fail_key(key, "is not a boolean");
        return true;
    }

    // Counts arrive as decimal strings; a bare JSON integer is tolerated. Either way it must be a non-negative
    // int64: a count we cannot represent exactly is not stored as something else.
    bool count(const object& o, std::string_view key, std::optional<int64_t>& out) {
        element e;
        const Field f = lookup(o, key, e);
        if (f == Field::absent) return true;
        if (f == Field::bad) return fail_key(key, "is unreadable");
        int64_t v = 0;
        std::string_view text;
        if (e.get_string().get(text) == simdjson::SUCCESS) {
            const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
            if (text.empty() || !is_digit(text[0]) || ec != std::errc{} || ptr != text.data() + text.size()) {
                return fail_key(key, "is not a non-negative integer");
            }
        } else if (e.get_int64().get(v) != simdjson::SUCCESS || v < 0) {
            return fail_key(key, "is not a non-negative integer");
        }
        out = v;
        return true;
    }

    bool fail(std::string_view what) {
        set_error(error_, what, index_);
        return false;
    }

    bool fail_key(std::string_view key, std::string_view what) {
        std::string msg(key);
        msg += ' ';
        msg += what;
        return fail(msg);
    }

    VideoMeta& m_;
    size_t index_;
    std::string* error_;
};

}  // namespace

namespace {

// Upstream decides the body size, so allocation can fail; that is a failed parse, not an escaped exception.
template <typename F>
bool no_throw(std::string* error, F&& f) {
    try {
        return f();
    } catch (const std::exception&) {
        set_error(error, "out of memory");
        return false;
    }
}

bool parse_videos_list_impl(const std::string& body, int64_t fetched_at, std::vector<VideoMeta>& out,
                            std::string* error) {
    // A parser per call: responses are rare next to their network cost, and no parser state outlives the call
    // or ties itself to a thread.
    simdjson::dom::parser parser;
    array items;
    if (!items_of(parser, body, items, error)) return false;

    std::vector<VideoMeta> parsed;
    parsed.reserve(items.size());
    size_t index = 0;
    for (element item : items) {
        VideoMeta& m = parsed.emplace_back();
        m.fetched_at = fetched_at;
        if (!ItemReader(m, index, error).read(item)) return false;
        ++index;
    }
    out.reserve(out.size() + parsed.size());
    for (VideoMeta& m : parsed) out.push_back(std::move(m));
    return true;
}

bool parse_channels_list_impl(const std::string& body,
                              std::vector<std::pair<std::string, std::string>>& channel_handles, std::string* error) {
    simdjson::dom::parser parser;
    array items;
    if (!items_of(parser, body, items, error)) return false;

    std::vector<std::pair<std::string, std::string>> parsed;
    size_t index = 0;
    for (element item : items) {
        object o;
        if (item.get_object().get(o) != simdjson::SUCCESS) {
            set_error(error, "not an object", index);
            return false;
        }
        std::string_view id;
        if (get_string(o, "id", id) != Field::ok || id.empty()) {
            set_error(error, "no valid id", index);
            return false;
        }
        object snippet;
        const Field sf = get_object(o, "snippet", snippet);
        if (sf == Field::bad) {
            set_error(error, "snippet is not an object", index);
            return false;
        }
        if (sf == Field::ok) {
            std::string_view handle;
            const Field hf = get_string(snippet, "customUrl", handle);
            if (hf == Field::bad) {
                set_error(error, "customUrl is not a string", index);
                return false;
            }
            if (hf == Field::ok && !handle.empty()) parsed.emplace_back(std::string(id), std::string(handle));
        }
        ++index;
    }
    channel_handles.reserve(channel_handles.size() + parsed.size());
    for (auto& p : parsed) channel_handles.push_back(std::move(p));
    return true;
}

}  // namespace

bool parse_videos_list(const std::string& body, int64_t fetched_at, std::vector<VideoMeta>& out,
                       std::string* error) {
    return no_throw(error, [&] { return parse_videos_list_impl(body, fetched_at, out, error); });
}

bool parse_channels_list(const std::string& body, std::vector<std::pair<std::string, std::string>>& channel_handles,
                         std::string* error) {
    return no_throw(error, [&] { return parse_channels_list_impl(body, channel_handles, error); });
}

namespace {

// A reason is a machine token ("quotaExceeded"); anything else is not safe to put in a metric label.
bool is_reason_token(std::string_view r) noexcept {
    if (r.empty() || r.size() > 64) return false;
    for (char c : r) {
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
                        c == '.' || c == '-';
        if (!ok) return false;
    }
    return true;
}

std::string envelope_reason_of(const std::string& body) {
    simdjson::dom::parser parser;
    element root;
    if (parse_body(parser, body, root) != simdjson::SUCCESS) return {};
    element first;
    std::string_view reason;
    if (root["error"]["errors"].at(0).get(first) != simdjson::SUCCESS) return {};
    if (first["reason"].get_string().get(reason) != simdjson::SUCCESS) return {};
    return is_reason_token(reason) ? std::string(reason) : std::string();
}

std::string envelope_reason(const std::string& body) noexcept {
    if (body.empty()) return {};
    try {
        return envelope_reason_of(body);
    } catch (const std::exception&) {
        return {};
    }
}

}  // namespace

UpstreamError classify_http_response(long http_status, const std::string& body) {
    UpstreamError result;
    if (http_status >= 200 && http_status < 300) return result;
    if (http_status >= 500 && http_status < 600) {
        result.error_class = ErrorClass::server;
        result.reason = envelope_reason(body);
        return result;
    }
    if (http_status < 400 || http_status >= 600) {
        result.error_class = ErrorClass::malformed;
        return result;
    }
    result.reason = envelope_reason(body);
    const std::string& r = result.reason;
    if (r == "quotaExceeded" || r == "dailyLimitExceeded") {
        result.error_class = ErrorClass::quota;
    } else if (r == "rateLimitExceeded" || r == "userRateLimitExceeded" || http_status == 429) {
        result.error_class = ErrorClass::rate_limited;
    } else if (http_status == 401 || http_status == 403) {
        result.error_class = ErrorClass::forbidden;
    } else if (http_status == 408) {
        result.error_class = ErrorClass::timeout;
    } else {
        result.error_class = ErrorClass::bad_request;
    }
    return result;
}

}  // namespace vault_metadata
