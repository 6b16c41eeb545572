#include "origin_protocol.h"

#include <gtest/gtest.h>
#include <msgpack.h>
#include <simdjson.h>

#include <random>
#include <string>
#include <vector>

#include "payload_codec.h"

namespace vault_metadata::origin {
namespace {

// ------------------------------------------------------------------------------------------ helpers (msgpack-c)

int append(void* data, const char* buf, size_t len) {
    static_cast<std::string*>(data)->append(buf, len);
    return 0;
}

struct Pack {
    std::string out;
    msgpack_packer pk{};
    Pack() { msgpack_packer_init(&pk, &out, append); }
    Pack& map(size_t n) { msgpack_pack_map(&pk, n); return *this; }
    Pack& array(size_t n) { msgpack_pack_array(&pk, n); return *this; }
    Pack& str(std::string_view s) { msgpack_pack_str_with_body(&pk, s.data(), s.size()); return *this; }
    Pack& bin(std::string_view s) { msgpack_pack_bin_with_body(&pk, s.data(), s.size()); return *this; }
    Pack& integer(int64_t v) { msgpack_pack_int64(&pk, v); return *this; }
    Pack& nil() { msgpack_pack_nil(&pk); return *this; }
};

std::string id_n(size_t i) {
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string id = "vid";
    for (int k = 0; k < 8; ++k) {
        id += alphabet[i % 64];
        i /= 64;
    }
    return id;
}

std::string msgpack_request(const std::vector<std::string>& ids) {
    Pack p;
    p.map(1).str("video_ids").array(ids.size());
    for (const auto& id : ids) p.str(id);
    return p.out;
}

std::string json_request(const std::vector<std::string>& ids) {
    std::string out = "{\"video_ids\":[";
    for (size_t i = 0; i < ids.size(); ++i) out += (i ? ",\"" : "\"") + ids[i] + "\"";
    return out + "]}";
}

struct Parsed {
    bool ok = false;
    std::vector<std::string> ids;
    RequestError error;
};

Parsed parse(std::string_view body, Encoding e, Limits limits = {}) {
    Parsed r;
    r.ok = parse_request(body, e, limits, r.ids, r.error);
    return r;
}

// A msgpack object decoded with msgpack-c, kept alive with its zone.
struct Unpacked {
    std::string bytes;  // msgpack-c's str objects point into it
    msgpack_unpacked u;
    explicit Unpacked(std::string input) : bytes(std::move(input)) {
        msgpack_unpacked_init(&u);
        size_t off = 0;
        EXPECT_EQ(msgpack_unpack_next(&u, bytes.data(), bytes.size(), &off), MSGPACK_UNPACK_SUCCESS);
        EXPECT_EQ(off, bytes.size());
    }
    ~Unpacked() { msgpack_unpacked_destroy(&u); }
    const msgpack_object& root() const { return u.data; }
};

std::string key_of(const msgpack_object_kv& kv) { return std::string(kv.key.via.str.ptr, kv.key.via.str.size); }

const msgpack_object* find(const msgpack_object& map, std::string_view key) {
    for (uint32_t i = 0; i < map.via.map.size; ++i) {
        if (key_of(map.via.map.ptr[i]) == key) return &map.via.map.ptr[i].val;
    }
    return nullptr;
}

VideoMeta sample(std::string id = "dQw4w9WgXcQ") {
    VideoMeta m;
    m.video_id = std::move(id);
    m.title = "Rick \"Astley\" \\ <b>&</b> \xc3\xa9\xe6\xbc\xa2 \xf0\x9f\x87\xab\xf0\x9f\x87\xb7\n";
    m.channel_id = "UCuAXFkgsw1L7xaCfnd5JJOw";
    m.channel_title = "Rick Astley";
    m.channel_handle = "@rickastleyyt";
    m.published_at = 1256453853;
    m.duration_seconds = 213;
    m.view_count = 5000000000LL;
    m.like_count = std::nullopt;
    m.comment_count = 3;
    m.category_id = "10";
    m.live_broadcast_content = "none";
    m.licensed_content = true;
    m.embeddable = true;
    m.privacy_status = "public";
    m.allowed_countries = std::vector<std::string>{"FR", "DE"};
    m.blocked_countries = {};
    m.fetched_at = 1700000000;
    return m;
}

const std::vector<std::string> kItemKeys = {
    "video_id",     "title",          "channel_id",     "channel_title",          "channel_handle", "published_at",
    "duration_seconds", "view_count", "like_count",     "comment_count",          "category_id",
    "live_broadcast_content", "age_restricted", "licensed_content", "embeddable", "made_for_kids",
    "privacy_status", "allowed_countries", "blocked_countries", "ttl", "fetched_at", "stale"};

// ------------------------------------------------------------------------------------------ content types

TEST(OriginProtocol, ContentTypes) {
    EXPECT_EQ(encoding_of("application/msgpack"), Encoding::msgpack);
    EXPECT_EQ(encoding_of("Application/X-MsgPack"), Encoding::msgpack);
    EXPECT_EQ(encoding_of("application/vnd.msgpack"), Encoding::msgpack);
    EXPECT_EQ(encoding_of("application/json"), Encoding::json);
    EXPECT_EQ(encoding_of(" application/json ; charset=UTF-8"), Encoding::json);
    EXPECT_EQ(encoding_of(""), std::nullopt);
    EXPECT_EQ(encoding_of("text/plain"), std::nullopt);
    EXPECT_EQ(encoding_of("application/jsonx"), std::nullopt);
    EXPECT_EQ(encoding_of("application/x-www-form-urlencoded"), std::nullopt);
    EXPECT_EQ(unsupported_media_type().status, 415);
    EXPECT_STREQ(content_type_of(Encoding::msgpack), "application/msgpack");
    EXPECT_STREQ(content_type_of(Encoding::json), "application/json; charset=utf-8");
}

// ------------------------------------------------------------------------------------------ parsing: good

TEST(OriginProtocol, ParsesMsgpackAndJsonAlike) {
    const std::vector<std::string> ids = {"dQw4w9WgXcQ", "abcdefghij_", "-_-_-_-_-_-", "dQw4w9WgXcQ", "01234567890"};
    const std::vector<std::string> distinct = {"dQw4w9WgXcQ", "abcdefghij_", "-_-_-_-_-_-", "01234567890"};
    auto m = parse(msgpack_request(ids), Encoding::msgpack);
    ASSERT_TRUE(m.ok) << m.error.code;
    EXPECT_EQ(m.ids, distinct);
    auto j = parse(json_request(ids), Encoding::json);
    ASSERT_TRUE(j.ok) << j.error.code;
    EXPECT_EQ(j.ids, distinct);
}

TEST(OriginProtocol, EmptyListIsAValidRequest) {
    auto m = parse(msgpack_request({}), Encoding::msgpack);
    EXPECT_TRUE(m.ok);
    EXPECT_TRUE(m.ids.empty());
    auto j = parse("{\"video_ids\": []}", Encoding::json);
    EXPECT_TRUE(j.ok);
    EXPECT_TRUE(j.ids.empty());
}

TEST(OriginProtocol, JsonEscapesInIdsAreDecoded) {
    auto j = parse("{\"video_ids\":[\"\\u0064Qw4w9WgXcQ\"]}", Encoding::json);
    ASSERT_TRUE(j.ok);
    EXPECT_EQ(j.ids, std::vector<std::string>{"dQw4w9WgXcQ"});
}

TEST(OriginProtocol, LimitIsOnDistinctIds) {
    std::vector<std::string> ids;
    for (size_t i = 0; i < 1000; ++i) ids.push_back(id_n(i));
    EXPECT_TRUE(parse(msgpack_request(ids), Encoding::msgpack).ok);
    ids.push_back(ids[0]);  // a duplicate does not count
    EXPECT_TRUE(parse(msgpack_request(ids), Encoding::msgpack).ok);
    ids.push_back(id_n(1000));
    auto m = parse(msgpack_request(ids), Encoding::msgpack);
    EXPECT_FALSE(m.ok);
    EXPECT_EQ(m.error.code, "too_many_ids");
    auto j = parse(json_request(ids), Encoding::json);
    EXPECT_FALSE(j.ok);
    EXPECT_EQ(j.error.code, "too_many_ids");
    Limits small;
    small.max_ids = 2;
    EXPECT_EQ(parse(msgpack_request({id_n(1), id_n(2), id_n(3)}), Encoding::msgpack, small).error.code,
              "too_many_ids");
}

// ------------------------------------------------------------------------------------------ parsing: bad

struct BadCase {
    const char* name;
    Encoding encoding;
    std::string body;
    const char* code;
};

std::vector<BadCase> bad_cases() {
    std::vector<BadCase> cases;
    const std::string good = msgpack_request({"dQw4w9WgXcQ", "abcdefghij_"});
    cases.push_back({"empty msgpack", Encoding::msgpack, "", "empty_body"});
    cases.push_back({"empty json", Encoding::json, "", "empty_body"});
    for (size_t cut = 1; cut < good.size(); ++cut) {
        cases.push_back({"truncated msgpack", Encoding::msgpack, good.substr(0, cut), "malformed_msgpack"});
    }
    cases.push_back({"trailing byte", Encoding::msgpack, good + '\x00', "malformed_msgpack"});
    cases.push_back({"two objects", Encoding::msgpack, good + good, "malformed_msgpack"});
    cases.push_back({"0xc1", Encoding::msgpack, "\xc1", "malformed_msgpack"});
    cases.push_back({"array32 claims 4G", Encoding::msgpack, std::string("\x81\xa9video_ids\xdd\xff\xff\xff\xff", 15),
                     "malformed_msgpack"});
    cases.push_back({"map32 claims 4G", Encoding::msgpack, std::string("\xdf\xff\xff\xff\xff\xa0", 6),
                     "malformed_msgpack"});
    cases.push_back({"str32 claims 4G", Encoding::msgpack, std::string("\xdb\xff\xff\xff\xff", 5), "malformed_msgpack"});
    cases.push_back({"too deep", Encoding::msgpack, std::string(40, '\x91') + '\x01', "malformed_msgpack"});
    cases.push_back({"json as msgpack", Encoding::msgpack, json_request({"dQw4w9WgXcQ"}), "malformed_msgpack"});
    cases.push_back({"msgpack as json", Encoding::json, good, "malformed_json"});
    cases.push_back({"truncated json", Encoding::json, "{\"video_ids\":[\"dQw4w9WgXcQ\"", "malformed_json"});
    cases.push_back({"json invalid utf-8", Encoding::json, "{\"video_ids\":[\"\xff\"]}", "malformed_json"});
    cases.push_back({"msgpack array root", Encoding::msgpack, Pack().array(1).str("dQw4w9WgXcQ").out, "not_a_map"});
    cases.push_back({"msgpack int root", Encoding::msgpack, Pack().integer(5).out, "not_a_map"});
    cases.push_back({"msgpack nil root", Encoding::msgpack, Pack().nil().out, "not_a_map"});
    cases.push_back({"json array root", Encoding::json, "[\"dQw4w9WgXcQ\"]", "not_a_map"});
    cases.push_back({"json string root", Encoding::json, "\"dQw4w9WgXcQ\"", "not_a_map"});
    cases.push_back({"wrong key", Encoding::msgpack, Pack().map(1).str("ids").array(0).out, "unknown_key"});
    cases.push_back({"wrong key case", Encoding::msgpack, Pack().map(1).str("Video_ids").array(0).out, "unknown_key"});
    cases.push_back({"extra key", Encoding::msgpack,
                     Pack().map(2).str("video_ids").array(0).str("country").str("FR").out, "unknown_key"});
    cases.push_back({"int key", Encoding::msgpack, Pack().map(1).integer(1).array(0).out, "unknown_key"});
    cases.push_back({"bin key", Encoding::msgpack, Pack().map(1).bin("video_ids").array(0).out, "unknown_key"});
    cases.push_back({"json wrong key", Encoding::json, "{\"ids\":[]}", "unknown_key"});
    cases.push_back({"duplicate key", Encoding::msgpack,
                     Pack().map(2).str("video_ids").array(0).str("video_ids").array(0).out, "duplicate_key"});
    cases.push_back({"json duplicate key", Encoding::json, "{\"video_ids\":[],\"video_ids\":[]}", "duplicate_key"});
    cases.push_back({"empty map", Encoding::msgpack, Pack().map(0).out, "missing_video_ids"});
    cases.push_back({"json empty object", Encoding::json, "{}", "missing_video_ids"});
    cases.push_back({"ids a string", Encoding::msgpack, Pack().map(1).str("video_ids").str("dQw4w9WgXcQ").out,
                     "video_ids_not_a_list"});
    cases.push_back({"ids a map", Encoding::msgpack, Pack().map(1).str("video_ids").map(0).out, "video_ids_not_a_list"});
    cases.push_back({"ids null", Encoding::json, "{\"video_ids\":null}", "video_ids_not_a_list"});
    cases.push_back({"int id", Encoding::msgpack, Pack().map(1).str("video_ids").array(1).integer(12345678901).out,
                     "id_not_a_string"});
    cases.push_back({"bin id", Encoding::msgpack, Pack().map(1).str("video_ids").array(1).bin("dQw4w9WgXcQ").out,
                     "id_not_a_string"});
    cases.push_back({"nil id", Encoding::msgpack, Pack().map(1).str("video_ids").array(1).nil().out, "id_not_a_string"});
    cases.push_back({"nested list id", Encoding::msgpack,
                     Pack().map(1).str("video_ids").array(1).array(1).str("dQw4w9WgXcQ").out, "id_not_a_string"});
    cases.push_back({"json number id", Encoding::json, "{\"video_ids\":[12345678901]}", "id_not_a_string"});
    cases.push_back({"short id", Encoding::msgpack, msgpack_request({"dQw4w9WgXc"}), "invalid_id"});
    cases.push_back({"long id", Encoding::msgpack, msgpack_request({"dQw4w9WgXcQQ"}), "invalid_id"});
    cases.push_back({"bad char id", Encoding::msgpack, msgpack_request({"dQw4w9WgX+Q"}), "invalid_id"});
    cases.push_back({"nul in id", Encoding::msgpack, msgpack_request({std::string("dQw4w9W\0XcQ", 11)}), "invalid_id"});
    cases.push_back({"json bad id", Encoding::json, json_request({"../../etc/p"}), "invalid_id"});
    cases.push_back({"oversized", Encoding::msgpack, std::string(kDefaultMaxBodyBytes + 1, '\x90'), "body_too_large"});
    cases.push_back({"oversized json", Encoding::json, std::string(kDefaultMaxBodyBytes + 1, ' '), "body_too_large"});
    return cases;
}

TEST(OriginProtocol, RefusesBadRequestsWith400AndACode) {
    for (const BadCase& c : bad_cases()) {
        SCOPED_TRACE(c.name);
        auto r = parse(c.body, c.encoding);
        EXPECT_FALSE(r.ok);
        EXPECT_EQ(r.error.status, 400);
        EXPECT_EQ(r.error.code, c.code);
        EXPECT_FALSE(r.error.message.empty());
    }
}

TEST(OriginProtocol, ErrorMessagesDoNotEchoTheRequest) {
    auto r = parse(msgpack_request({"<script>x<"}), Encoding::msgpack);
    EXPECT_EQ(r.error.code, "invalid_id");
    EXPECT_EQ(r.error.message.find("script"), std::string::npos);
    EXPECT_NE(r.error.message.find("video_ids[0]"), std::string::npos);
}

// Random bytes and random mutations of a good body never crash, never succeed with garbage ids.
TEST(OriginProtocol, SurvivesRandomInput) {
    std::mt19937_64 rng(42);
    const std::string good = msgpack_request({"dQw4w9WgXcQ", "abcdefghij_", "ABCDEFGHIJK"});
    const std::string good_json = json_request({"dQw4w9WgXcQ", "abcdefghij_"});
    for (int round = 0; round < 20000; ++round) {
        std::string body;
        const Encoding e = round % 3 == 0 ? Encoding::json : Encoding::msgpack;
        if (round % 2 == 0) {
            body = e == Encoding::json ? good_json : good;
            const int flips = 1 + static_cast<int>(rng() % 4);
            for (int f = 0; f < flips; ++f) body[rng() % body.size()] = static_cast<char>(rng());
        } else {
            body.resize(rng() % 64);
            for (char& c : body) c = static_cast<char>(rng());
        }
        auto r = parse(body, e);
        if (r.ok) {
            for (const auto& id : r.ids) EXPECT_EQ(id.size(), 11u);
        } else {
            EXPECT_EQ(r.error.status, 400);
        }
    }
}

// ------------------------------------------------------------------------------------------ encoding

TEST(OriginProtocol, MsgpackAnswerHasTheItemKeysAndSplicesThePayload) {
    const VideoMeta fresh = sample("dQw4w9WgXcQ");
    const VideoMeta stale = sample("abcdefghij_");
    Answer a;
    a.fresh.push_back({&fresh, 321});
    a.stale.push_back({&stale, 0});
    a.missing = {"ABCDEFGHIJK"};
    a.quota_remaining = 9876;
    const std::string bytes = encode_answer(a, Encoding::msgpack);
    Unpacked u(bytes);
    const msgpack_object& root = u.root();
    ASSERT_EQ(root.type, MSGPACK_OBJECT_MAP);
    ASSERT_EQ(root.via.map.size, 5u);
    const std::vector<std::string> top = {"fresh", "stale_refreshed", "stale", "missing", "quota_remaining"};
    for (size_t i = 0; i < top.size(); ++i) EXPECT_EQ(key_of(root.via.map.ptr[i]), top[i]);
    EXPECT_EQ(find(root, "quota_remaining")->via.u64, 9876u);
    EXPECT_EQ(find(root, "stale_refreshed")->via.array.size, 0u);
    const msgpack_object* missing = find(root, "missing");
    ASSERT_EQ(missing->via.array.size, 1u);
    EXPECT_EQ(std::string(missing->via.array.ptr[0].via.str.ptr, missing->via.array.ptr[0].via.str.size),
              "ABCDEFGHIJK");

    const msgpack_object& item = find(root, "fresh")->via.array.ptr[0];
    ASSERT_EQ(item.via.map.size, kItemKeys.size());
    for (size_t i = 0; i < kItemKeys.size(); ++i) EXPECT_EQ(key_of(item.via.map.ptr[i]), kItemKeys[i]);
    EXPECT_EQ(find(item, "ttl")->via.u64, 321u);
    EXPECT_EQ(find(item, "fetched_at")->via.u64, 1700000000u);
    EXPECT_FALSE(find(item, "stale")->via.boolean);
    EXPECT_EQ(find(item, "view_count")->via.u64, 5000000000u);
    EXPECT_EQ(find(item, "like_count")->type, MSGPACK_OBJECT_NIL);
    EXPECT_TRUE(find(find(root, "stale")->via.array.ptr[0], "stale")->via.boolean);

    // The first 19 pairs are byte for byte the stored payload's.
    const std::string payload = encode_payload(fresh);
    PayloadMapBody body;
    ASSERT_TRUE(payload_map_body(payload, body));
    EXPECT_NE(bytes.find(std::string(body.pairs)), std::string::npos);
    // And the item reads back through the codec (which skips the three serve-time keys).
    VideoMeta back;
    std::string item_bytes;
    {
        Pack p;
        msgpack_pack_object(&p.pk, item);
        item_bytes = p.out;
    }
    ASSERT_TRUE(decode_payload(item_bytes.data(), item_bytes.size(), back));
    back.fetched_at = fresh.fetched_at;
    EXPECT_EQ(back, fresh);
}

TEST(OriginProtocol, JsonAnswerIsValidJsonWithTheSameShape) {
    VideoMeta m = sample();
    m.title += std::string("\x01\xff\xc3", 3);  // control byte, invalid UTF-8, truncated sequence
    m.channel_handle = std::nullopt;
    m.allowed_countries = std::nullopt;
    m.blocked_countries = {"RU"};
    Answer a;
    a.stale_refreshed.push_back({&m, 60});
    a.quota_remaining = 5;
    const std::string text = encode_answer(a, Encoding::json);
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    ASSERT_EQ(parser.parse(text).get(root), simdjson::SUCCESS) << text;
    simdjson::dom::object item;
    ASSERT_EQ(root["stale_refreshed"].at(0).get_object().get(item), simdjson::SUCCESS);
    std::vector<std::string> keys;
    for (auto kv : item) keys.emplace_back(kv.key);
    EXPECT_EQ(keys, kItemKeys);
    int64_t ttl = 0;
    ASSERT_EQ(item["ttl"].get_int64().get(ttl), simdjson::SUCCESS);
    EXPECT_EQ(ttl, 60);
    std::string_view title;
    ASSERT_EQ(item["title"].get_string().get(title), simdjson::SUCCESS);
    EXPECT_EQ(title.substr(0, 10), "Rick \"Astl");
    EXPECT_NE(title.find("\xef\xbf\xbd"), std::string_view::npos);
    EXPECT_TRUE(item["channel_handle"].is_null());
    EXPECT_TRUE(item["allowed_countries"].is_null());
    EXPECT_TRUE(item["like_count"].is_null());
    bool stale = true;
    ASSERT_EQ(item["stale"].get_bool().get(stale), simdjson::SUCCESS);
    EXPECT_FALSE(stale);
    int64_t quota = 0;
    ASSERT_EQ(root["quota_remaining"].get_int64().get(quota), simdjson::SUCCESS);
    EXPECT_EQ(quota, 5);
    simdjson::dom::array fresh;
    ASSERT_EQ(root["fresh"].get_array().get(fresh), simdjson::SUCCESS);
    EXPECT_EQ(fresh.size(), 0u);
}

TEST(OriginProtocol, EmptyAnswers) {
    Answer a;
    EXPECT_EQ(encode_answer(a, Encoding::json),
              "{\"fresh\":[],\"stale_refreshed\":[],\"stale\":[],\"missing\":[],\"quota_remaining\":0}");
    Unpacked u(encode_answer(a, Encoding::msgpack));
    EXPECT_EQ(u.root().via.map.size, 5u);
}

TEST(OriginProtocol, ErrorBodies) {
    RequestError e{400, "invalid_id", "video_ids[0] is \"bad\""};
    EXPECT_EQ(encode_error(e, Encoding::json),
              "{\"error\":{\"status\":400,\"code\":\"invalid_id\",\"message\":\"video_ids[0] is \\\"bad\\\"\"}}");
    Unpacked u(encode_error(e, Encoding::msgpack));
    const msgpack_object* err = find(u.root(), "error");
    ASSERT_NE(err, nullptr);
    EXPECT_EQ(find(*err, "status")->via.u64, 400u);
    const msgpack_object* code = find(*err, "code");
    EXPECT_EQ(std::string(code->via.str.ptr, code->via.str.size), "invalid_id");
}

}  // namespace
}  // namespace vault_metadata::origin
