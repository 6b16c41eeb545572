#include "payload_codec.h"

#include <gtest/gtest.h>
#include <msgpack.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace vault_metadata {
namespace {

const std::vector<std::string> kExpectedKeys = {
    "video_id",   "title",         "channel_id",     "channel_title",          "channel_handle",
    "published_at", "duration_seconds", "view_count", "like_count",           "comment_count",
    "category_id", "live_broadcast_content", "age_restricted", "licensed_content", "embeddable",
    "made_for_kids", "privacy_status", "allowed_countries", "blocked_countries"};

VideoMeta sample() {
    VideoMeta m;
    m.video_id = "dQw4w9WgXcQ";
    m.title = "Rick Astley - Never Gonna Give You Up (Official Music Video)";
    m.channel_id = "UCuAXFkgsw1L7xaCfnd5JJOw";
    m.channel_title = "Rick Astley";
    m.channel_handle = "@rickastleyyt";
    m.published_at = 1256453853;
    m.duration_seconds = 213;
    m.view_count = 1500000000;
    m.like_count = 17000000;
    m.comment_count = 2300000;
    m.category_id = "10";
    m.live_broadcast_content = "none";
    m.age_restricted = false;
    m.licensed_content = true;
    m.embeddable = true;
    m.made_for_kids = false;
    m.privacy_status = "public";
    m.allowed_countries = std::nullopt;
    m.blocked_countries = {"DE", "RU"};
    return m;
}

// ------------------------------------------------------------------------------------------ msgpack helpers
// Built on msgpack-c itself, so the tests check our hand-written reader against the reference implementation.

int append(void* data, const char* buf, size_t len) {
    static_cast<std::string*>(data)->append(buf, len);
    return 0;
}

std::string pack(const std::function<void(msgpack_packer*)>& f) {
    std::string out;
    msgpack_packer pk;
    msgpack_packer_init(&pk, &out, append);
    f(&pk);
    return out;
}

std::string pack_str(std::string_view s) {
    return pack([&](msgpack_packer* pk) { msgpack_pack_str_with_body(pk, s.data(), s.size()); });
}

// A map as (key, packed value) pairs, to reorder, drop, duplicate or replace entries.
using Pairs = std::vector<std::pair<std::string, std::string>>;

Pairs split(const std::string& payload) {
    msgpack_zone zone;
    msgpack_zone_init(&zone, 2048);
    msgpack_object obj;
    Pairs pairs;
    const auto rc = msgpack_unpack(payload.data(), payload.size(), nullptr, &zone, &obj);
    EXPECT_EQ(rc, MSGPACK_UNPACK_SUCCESS);
    if (rc == MSGPACK_UNPACK_SUCCESS && obj.type == MSGPACK_OBJECT_MAP) {
        for (uint32_t i = 0; i < obj.via.map.size; ++i) {
            const msgpack_object_kv& kv = obj.via.map.ptr[i];
            const msgpack_object value = kv.val;
            pairs.emplace_back(std::string(kv.key.via.str.ptr, kv.key.via.str.size),
                               pack([&](msgpack_packer* pk) { msgpack_pack_object(pk, value); }));
        }
    }
    msgpack_zone_destroy(&zone);
    return pairs;
}

std::string join(const Pairs& pairs, bool map16 = false) {
    std::string out;
    if (map16) {
        out.push_back(static_cast<char>(0xde));
        out.push_back(static_cast<char>(pairs.size() >> 8));
        out.push_back(static_cast<char>(pairs.size() & 0xff));
    } else {
        out = pack([&](msgpack_packer* pk) { msgpack_pack_map(pk, pairs.size()); });
    }
    for (const auto& [k, v] : pairs) out += pack_str(k) + v;
    return out;
}

std::string& value_of(Pairs& pairs, const std::string& key) {
    for (auto& [k, v] : pairs) {
        if (k == key) return v;
    }
    ADD_FAILURE() << key;
    return pairs.front().second;
}

bool decodes(const std::string& s, VideoMeta* out = nullptr) {
    VideoMeta m;
    const bool ok = decode_payload(s.data(), s.size(), m);
    if (out) *out = m;
    return ok;
}

// ------------------------------------------------------------------------------------------ encoding

TEST(PayloadCodec, KeysInContractOrderWithReferenceTypes) {
    const std::string payload = encode_payload(sample());
    msgpack_zone zone;
    msgpack_zone_init(&zone, 2048);
    msgpack_object obj;
    ASSERT_EQ(msgpack_unpack(payload.data(), payload.size(), nullptr, &zone, &obj), MSGPACK_UNPACK_SUCCESS);
    ASSERT_EQ(obj.type, MSGPACK_OBJECT_MAP);
    ASSERT_EQ(obj.via.map.size, kPayloadKeyCount);
    ASSERT_EQ(kExpectedKeys.size(), kPayloadKeyCount);
    for (uint32_t i = 0; i < obj.via.map.size; ++i) {
        const auto& kv = obj.via.map.ptr[i];
        ASSERT_EQ(kv.key.type, MSGPACK_OBJECT_STR);
        EXPECT_EQ(std::string(kv.key.via.str.ptr, kv.key.via.str.size), kExpectedKeys[i]);
    }
    const auto type_at = [&](size_t i) { return obj.via.map.ptr[i].val.type; };
    EXPECT_EQ(type_at(0), MSGPACK_OBJECT_STR);
    EXPECT_EQ(type_at(4), MSGPACK_OBJECT_STR);               // channel_handle
    EXPECT_EQ(type_at(5), MSGPACK_OBJECT_POSITIVE_INTEGER);  // published_at
    EXPECT_EQ(type_at(12), MSGPACK_OBJECT_BOOLEAN);          // age_restricted
    EXPECT_EQ(type_at(17), MSGPACK_OBJECT_NIL);              // allowed_countries
    EXPECT_EQ(type_at(18), MSGPACK_OBJECT_ARRAY);            // blocked_countries
    EXPECT_EQ(obj.via.map.ptr[18].val.via.array.size, 2u);
    msgpack_zone_destroy(&zone);
}

TEST(PayloadCodec, NullsAreNilAndFetchedAtNotStored) {
    VideoMeta m = sample();
    m.channel_handle.reset();
    m.view_count.reset();
    m.like_count.reset();
    m.comment_count.reset();
    m.fetched_at = 1234567;
    Pairs p = split(encode_payload(m));
    ASSERT_EQ(p.size(), kPayloadKeyCount);
    const std::string nil = "\xc0";
    EXPECT_EQ(value_of(p, "channel_handle"), nil);
    EXPECT_EQ(value_of(p, "view_count"), nil);
    EXPECT_EQ(value_of(p, "like_count"), nil);
    EXPECT_EQ(value_of(p, "comment_count"), nil);
    EXPECT_EQ(value_of(p, "allowed_countries"), nil);
    for (const auto& [k, v] : p) {
        EXPECT_NE(k, "fetched_at");
        EXPECT_NE(k, "ttl");
        EXPECT_NE(k, "stale");
    }
    // Two metas differing only in fetched_at encode identically.
    VideoMeta other = m;
    other.fetched_at = 1;
    EXPECT_EQ(encode_payload(m), encode_payload(other));
}

// ------------------------------------------------------------------------------------------ round trips

void expect_round_trip(const VideoMeta& in) {
    const std::string payload = encode_payload(in);
    VideoMeta out;
    out.fetched_at = 777;  // not in the payload: must be left alone
    ASSERT_TRUE(decode_payload(payload.data(), payload.size(), out));
    VideoMeta expected = in;
    expected.fetched_at = 777;
    EXPECT_EQ(out, expected);
}

TEST(PayloadCodec, RoundTripShapes) {
    expect_round_trip(sample());
    expect_round_trip(VideoMeta{});  // all defaults: empty strings, zeros, nullopts

    VideoMeta m = sample();
    m.allowed_countries = std::vector<std::string>{};  // available nowhere
    m.blocked_countries.clear();
    expect_round_trip(m);

    m.allowed_countries = std::vector<std::string>{"US", "CA", "GB", "FR", "DE", "JP", "KR", "BR", "IN", "MX",
                                                   "AU", "NZ", "IE", "ES", "IT", "PT", "NL"};  // > 15: array16
    expect_round_trip(m);

    m = sample();
    m.channel_handle.reset();
    m.like_count.reset();
    m.comment_count.reset();
    m.age_restricted = m.made_for_kids = true;
    m.licensed_content = m.embeddable = false;
    m.live_broadcast_content = "upcoming";
    m.privacy_status = "unlisted";
    expect_round_trip(m);

    // Integer boundaries across every msgpack width, both signs.
    for (int64_t v : {int64_t{0}, int64_t{1}, int64_t{127}, int64_t{128}, int64_t{255}, int64_t{256}, int64_t{65535},
                      int64_t{65536}, int64_t{4294967295}, int64_t{4294967296}, INT64_MAX, int64_t{-1}, int64_t{-32},
                      int64_t{-33}, int64_t{-128}, int64_t{-129}, int64_t{-32768}, int64_t{-32769},
                      int64_t{-2147483648LL}, int64_t{-2147483649LL}, INT64_MIN}) {
        m.published_at = v;
        m.duration_seconds = v / -2;
        m.view_count = v;
        m.like_count = v;
        m.comment_count = v;
        expect_round_trip(m);
    }
}

TEST(PayloadCodec, RoundTripStrings) {
    VideoMeta m = sample();
    m.title = "Caf\xc3\xa9 \"quoted\" \\ \xf0\x9f\x98\x80 \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \n\t";
    m.channel_title = std::string("nul\0inside", 10);
    expect_round_trip(m);
    for (size_t len : {size_t{31}, size_t{32}, size_t{255}, size_t{256}, size_t{65535}, size_t{65536},
                       size_t{200000}}) {
        m.title.assign(len, 'x');
        m.channel_handle = std::string(len, 'h');
        expect_round_trip(m);
    }
}

TEST(PayloadCodec, DecodeReusesTarget) {
    // Decoding a small item into a target that held a bigger one leaves no residue of the old one.
    VideoMeta big = sample();
    big.allowed_countries = std::vector<std::string>{"AA", "BB", "CC"};
    big.blocked_countries = {"XX", "YY", "ZZ", "WW"};
    VideoMeta small = VideoMeta{};
    small.video_id = "abcdefghijk";
    small.allowed_countries = std::vector<std::string>{"US"};
    VideoMeta target;
    std::string p = encode_payload(big);
    ASSERT_TRUE(decode_payload(p.data(), p.size(), target));
    p = encode_payload(small);
    ASSERT_TRUE(decode_payload(p.data(), p.size(), target));
    EXPECT_EQ(target, small);
}

// ------------------------------------------------------------------------------------------ tolerance

TEST(PayloadCodec, AnyKeyOrder) {
    Pairs p = split(encode_payload(sample()));
    std::mt19937 rng(42);
    for (int i = 0; i < 50; ++i) {
        std::shuffle(p.begin(), p.end(), rng);
        VideoMeta out;
        ASSERT_TRUE(decodes(join(p), &out));
        EXPECT_EQ(out, sample());
    }
    std::reverse(p.begin(), p.end());
    EXPECT_TRUE(decodes(join(p, /*map16=*/true)));  // a non-minimal map header is still a map
}

TEST(PayloadCodec, UnknownKeysIgnoredWhateverTheirValue) {
    const Pairs base = split(encode_payload(sample()));
    const std::vector<std::string> values = {
        "\xc0",                                         // nil
        "\xc3",                                         // true
        "\x05",                                         // fixint
        "\xcb\x40\x09\x21\xfb\x54\x44\x2d\x18",         // float64
        "\xca\x40\x49\x0f\xdb",                         // float32
        pack_str("a string"),                           // str
        std::string("\xc4\x03" "abc", 5),               // bin8
        std::string("\xd4\x01\x02", 3),                 // fixext1
        std::string("\xc7\x02\x05" "ab", 5),            // ext8
        std::string("\x92\x81\xa1k\x93\x01\x02\xa1x\xc0", 10),  // [ {k: [1,2,"x"]}, nil ]
        std::string("\xdc\x00\x01\x80", 4),             // array16 of one empty map
        std::string("\xdf\x00\x00\x00\x00", 5),         // empty map32
    };
    for (const std::string& v : values) {
        Pairs p = base;
        p.insert(p.begin() + 3, {"future_key", v});
        p.emplace_back("another_future_key", v);
        VideoMeta out;
        EXPECT_TRUE(decodes(join(p), &out)) << testing::PrintToString(v);
        EXPECT_EQ(out, sample());
    }
}

// ------------------------------------------------------------------------------------------ rejection

TEST(PayloadCodec, RejectsMissingOrDuplicateKeys) {
    const Pairs base = split(encode_payload(sample()));
    for (size_t i = 0; i < base.size(); ++i) {
        Pairs p = base;
        p.erase(p.begin() + static_cast<std::ptrdiff_t>(i));
        EXPECT_FALSE(decodes(join(p))) << "without " << base[i].first;
        p = base;
        p.push_back(base[i]);
        EXPECT_FALSE(decodes(join(p))) << "twice " << base[i].first;
    }
}

TEST(PayloadCodec, RejectsWrongTypes) {
    const Pairs base = split(encode_payload(sample()));
    const std::string nil = "\xc0", int5 = "\x05", t = "\xc3", str = pack_str("x"), arr = "\x91\xa2US",
                      bin = std::string("\xc4\x01x", 3), flt = "\xca\x3f\x80\x00\x00",
                      big = "\xcf\x80\x00\x00\x00\x00\x00\x00\x00";  // 2^63 does not fit int64
    const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
        {"video_id", {nil, int5, t, arr, bin}},
        {"title", {nil, int5, bin, arr}},
        {"channel_handle", {int5, t, arr, bin}},
        {"published_at", {nil, str, t, flt, big}},
        {"duration_seconds", {nil, str, flt, big}},
        {"view_count", {str, t, flt, big, arr}},
        {"like_count", {str, big}},
        {"comment_count", {t, big}},
        {"age_restricted", {nil, int5, str}},
        {"embeddable", {nil, int5}},
        {"privacy_status", {nil, t}},
        {"allowed_countries", {int5, str, "\x91\x05", "\x91\xc0", "\x80"}},
        {"blocked_countries", {nil, int5, str, "\x91\x05", "\x80"}},
    };
    for (const auto& [key, bad_values] : cases) {
        for (const std::string& bad : bad_values) {
            Pairs p = base;
            value_of(p, key) = bad;
            EXPECT_FALSE(decodes(join(p))) << key;
        }
    }
}

TEST(PayloadCodec, RejectsGarbage) {
    VideoMeta m;
    EXPECT_FALSE(decode_payload(nullptr, 0, m));
    EXPECT_FALSE(decode_payload(nullptr, 5, m));
    EXPECT_FALSE(decode_payload("", 0, m));
    for (const std::string& s : {std::string("\x80", 1), std::string("\x90", 1), std::string("\xc0", 1),
                                std::string("\xc1", 1), std::string("{\"video_id\":1}"), std::string("\xdf\xff\xff\xff\xff", 5),
                                std::string("\x81\x05\x05", 3)}) {
        EXPECT_FALSE(decodes(s));
    }
    const std::string good = encode_payload(sample());
    EXPECT_FALSE(decodes(good + '\0'));       // trailing byte
    EXPECT_FALSE(decodes(good + good));       // two maps
    EXPECT_FALSE(decodes("\x91" + good));     // wrapped in an array
}

TEST(PayloadCodec, EveryTruncationRejected) {
    const std::string good = encode_payload(sample());
    for (size_t len = 0; len < good.size(); ++len) {
        // A fresh heap copy of exactly len bytes, so a sanitizer would see any read past the end.
        std::vector<char> copy(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(len));
        VideoMeta m;
        EXPECT_FALSE(decode_payload(copy.data(), copy.size(), m)) << len;
        PayloadMapBody body;
        EXPECT_FALSE(payload_map_body(std::string_view(copy.data(), copy.size()), body)) << len;
    }
}

TEST(PayloadCodec, FuzzNeverCrashes) {
    std::mt19937 rng(2024);
    const std::string good = encode_payload(sample());
    int accepted = 0;
    VideoMeta m;
    for (int i = 0; i < 200000; ++i) {
        std::vector<char> buf;
        if (i % 2 == 0) {
            buf.resize(rng() % 64);
            for (char& c : buf) c = static_cast<char>(rng() & 0xff);
            if (!buf.empty() && i % 4 == 0) buf[0] = static_cast<char>(0x80 | (rng() & 0x0f));  // look like a map
        } else {
            buf.assign(good.begin(), good.end());
            const int flips = 1 + static_cast<int>(rng() % 4);
            for (int f = 0; f < flips; ++f) buf[rng() % buf.size()] = static_cast<char>(rng() & 0xff);
            if (rng() % 4 == 0) buf.resize(rng() % buf.size());
        }
        if (decode_payload(buf.data(), buf.size(), m)) ++accepted;
        PayloadMapBody body;
        if (payload_map_body(std::string_view(buf.data(), buf.size()), body)) {
            EXPECT_LE(body.pairs.size(), buf.size());
        }
    }
    std::printf("[          ] fuzz: %d of 200000 random/mutated inputs decoded\n", accepted);
}

// ------------------------------------------------------------------------------------------ map body

TEST(PayloadMapBody, HeaderPlusBodyIsThePayload) {
    for (const VideoMeta& m : {sample(), VideoMeta{}}) {
        const std::string payload = encode_payload(m);
        PayloadMapBody body;
        ASSERT_TRUE(payload_map_body(payload, body));
        EXPECT_EQ(body.pair_count, kPayloadKeyCount);
        EXPECT_EQ(body.pairs.data() + body.pairs.size(), payload.data() + payload.size());
        const std::string rebuilt =
            pack([&](msgpack_packer* pk) { msgpack_pack_map(pk, body.pair_count); }) + std::string(body.pairs);
        EXPECT_EQ(rebuilt, payload);
        VideoMeta out;
        ASSERT_TRUE(decodes(rebuilt, &out));
        EXPECT_EQ(out, m);
    }
}

TEST(PayloadMapBody, SpliceWithComputedKeys) {
    // What the origin does: a bigger map header, the stored pairs, then ttl / fetched_at / stale.
    const std::string payload = encode_payload(sample());
    PayloadMapBody body;
    ASSERT_TRUE(payload_map_body(payload, body));
    const std::string spliced = pack([&](msgpack_packer* pk) {
        msgpack_pack_map(pk, body.pair_count + 3);
    }) + std::string(body.pairs) + pack([](msgpack_packer* pk) {
        msgpack_pack_str_with_body(pk, "ttl", 3);
        msgpack_pack_int64(pk, 600);
        msgpack_pack_str_with_body(pk, "fetched_at", 10);
        msgpack_pack_int64(pk, 1700000000);
        msgpack_pack_str_with_body(pk, "stale", 5);
        msgpack_pack_false(pk);
    });

    msgpack_zone zone;
    msgpack_zone_init(&zone, 2048);
    msgpack_object obj;
    size_t off = 0;
    ASSERT_EQ(msgpack_unpack(spliced.data(), spliced.size(), &off, &zone, &obj), MSGPACK_UNPACK_SUCCESS);
    EXPECT_EQ(off, spliced.size());
    ASSERT_EQ(obj.type, MSGPACK_OBJECT_MAP);
    ASSERT_EQ(obj.via.map.size, kPayloadKeyCount + 3);
    const auto& last = obj.via.map.ptr[obj.via.map.size - 1];
    EXPECT_EQ(std::string(last.key.via.str.ptr, last.key.via.str.size), "stale");
    msgpack_zone_destroy(&zone);

    // The spliced item still decodes: the three extra keys are unknown keys to the decoder.
    VideoMeta out;
    ASSERT_TRUE(decodes(spliced, &out));
    EXPECT_EQ(out, sample());
}

TEST(PayloadMapBody, RejectsNonMapsAndTrailingBytes) {
    PayloadMapBody body;
    EXPECT_FALSE(payload_map_body("", body));
    EXPECT_FALSE(payload_map_body("\x90", body));
    EXPECT_FALSE(payload_map_body(std::string_view("\x81\xa1k", 3), body));  // value missing
    EXPECT_FALSE(payload_map_body(encode_payload(sample()) + "x", body));
    ASSERT_TRUE(payload_map_body("\x80", body));  // an empty map has an empty body
    EXPECT_EQ(body.pair_count, 0u);
    EXPECT_TRUE(body.pairs.empty());
}

// ------------------------------------------------------------------------------------------ speed

TEST(PayloadCodec, DecodeSpeed) {
    const std::string payload = encode_payload(sample());
    constexpr int kIterations = 100000;
    VideoMeta out;
    int ok = 0;
    // Warm the target once so steady-state reuse is measured, as on the warm path.
    ASSERT_TRUE(decode_payload(payload.data(), payload.size(), out));
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < kIterations; ++i) ok += decode_payload(payload.data(), payload.size(), out) ? 1 : 0;
    const auto reuse_ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count();

    const auto start_fresh = std::chrono::steady_clock::now();
    for (int i = 0; i < kIterations; ++i) {
        VideoMeta fresh;
        ok += decode_payload(payload.data(), payload.size(), fresh) ? 1 : 0;
    }
    const auto fresh_ns =
        std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start_fresh).count();

    EXPECT_EQ(ok, 2 * kIterations);
    std::printf("[          ] decode_payload: %.1f ns/decode reusing the target, %.1f ns/decode into a fresh "
                "VideoMeta (%zu-byte payload)\n",
                reuse_ns / kIterations, fresh_ns / kIterations, payload.size());
}

}  // namespace
}  // namespace vault_metadata
