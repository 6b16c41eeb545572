#include "youtube_api.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace vault_metadata {
namespace {

// ------------------------------------------------------------------------------------------ error_class_name

TEST(ErrorClassName, StableLabels) {
    EXPECT_STREQ(error_class_name(ErrorClass::none), "none");
    EXPECT_STREQ(error_class_name(ErrorClass::timeout), "timeout");
    EXPECT_STREQ(error_class_name(ErrorClass::server), "server");
    EXPECT_STREQ(error_class_name(ErrorClass::rate_limited), "rate_limited");
    EXPECT_STREQ(error_class_name(ErrorClass::quota), "quota");
    EXPECT_STREQ(error_class_name(ErrorClass::bad_request), "bad_request");
    EXPECT_STREQ(error_class_name(ErrorClass::forbidden), "forbidden");
    EXPECT_STREQ(error_class_name(ErrorClass::malformed), "malformed");
    EXPECT_STREQ(error_class_name(ErrorClass::network), "network");
    EXPECT_STREQ(error_class_name(static_cast<ErrorClass>(99)), "unknown");
}

// ------------------------------------------------------------------------------------------ video ids

TEST(VideoId, Valid) {
    EXPECT_TRUE(is_valid_video_id("dQw4w9WgXcQ"));
    EXPECT_TRUE(is_valid_video_id("___________"));
    EXPECT_TRUE(is_valid_video_id("-----------"));
    EXPECT_TRUE(is_valid_video_id("00000000000"));
    EXPECT_TRUE(is_valid_video_id("aZ09_-aZ09_"));
}

TEST(VideoId, Invalid) {
    EXPECT_FALSE(is_valid_video_id(""));
    EXPECT_FALSE(is_valid_video_id("dQw4w9WgXc"));
    EXPECT_FALSE(is_valid_video_id("dQw4w9WgXcQQ"));
    EXPECT_FALSE(is_valid_video_id("dQw4w9WgXc!"));
    EXPECT_FALSE(is_valid_video_id("dQw4w9WgXc "));
    EXPECT_FALSE(is_valid_video_id("dQw4w9WgXc."));
    EXPECT_FALSE(is_valid_video_id("dQw4w9WgX\xc3\xa9"));  // 11 bytes, one non-ASCII letter
    EXPECT_FALSE(is_valid_video_id(std::string_view("dQw4w9WgXc\0", 11)));
}

// ------------------------------------------------------------------------------------------ ISO 8601 durations

TEST(Duration, YouTubeForms) {
    EXPECT_EQ(parse_iso8601_duration("PT4M13S"), 253);
    EXPECT_EQ(parse_iso8601_duration("PT1H2M"), 3720);
    EXPECT_EQ(parse_iso8601_duration("PT45S"), 45);
    EXPECT_EQ(parse_iso8601_duration("PT1H"), 3600);
    EXPECT_EQ(parse_iso8601_duration("PT1H0M1S"), 3601);
    EXPECT_EQ(parse_iso8601_duration("P1DT2H3M4S"), 86400 + 7200 + 180 + 4);
    EXPECT_EQ(parse_iso8601_duration("P1D"), 86400);
    EXPECT_EQ(parse_iso8601_duration("P0D"), 0);
    EXPECT_EQ(parse_iso8601_duration("PT0S"), 0);
    EXPECT_EQ(parse_iso8601_duration("P1W"), 7 * 86400);
    EXPECT_EQ(parse_iso8601_duration("P2W1DT1S"), 15 * 86400 + 1);
    EXPECT_EQ(parse_iso8601_duration("PT90M"), 5400);  // components are not range-limited
    EXPECT_EQ(parse_iso8601_duration("PT100000S"), 100000);
}

TEST(Duration, FractionalSecondsFloored) {
    EXPECT_EQ(parse_iso8601_duration("PT1.9S"), 1);
    EXPECT_EQ(parse_iso8601_duration("PT0.999S"), 0);
    EXPECT_EQ(parse_iso8601_duration("PT1M5,5S"), 65);
}

TEST(Duration, Garbage) {
    for (const char* bad : {"", "P", "PT", "T1S", "1S", "PT1", "PT1X", "PTS", "P1DT", "PT1S1M", "PT1M1M", "P1D1W",
                            "PT1H1H", "pt1s", "PT1s", "-PT1S", "PT-1S", "PT1.S", "PT.5S", "PT1.5M", "P1.5D",
                            "PT1S ", " PT1S", "P1Y", "P1M", "P1Y2M3D", "PTT1S", "P1DTT1S", "PT1S\n", "P1H",
                            "PT99999999999999999999S", "P9999999999999999W"}) {
        EXPECT_EQ(parse_iso8601_duration(bad), std::nullopt) << bad;
    }
}

// ------------------------------------------------------------------------------------------ RFC 3339

TEST(Rfc3339, Basic) {
    EXPECT_EQ(parse_rfc3339_seconds("1970-01-01T00:00:00Z"), 0);
    EXPECT_EQ(parse_rfc3339_seconds("2024-05-01T12:34:56Z"), 1714566896);
    EXPECT_EQ(parse_rfc3339_seconds("2009-10-25T06:57:33Z"), 1256453853);
    EXPECT_EQ(parse_rfc3339_seconds("2038-01-19T03:14:08Z"), 2147483648LL);  // past 32 bits
    EXPECT_EQ(parse_rfc3339_seconds("2024-02-29T00:00:00Z"), 1709164800);
    EXPECT_EQ(parse_rfc3339_seconds("2000-02-29T00:00:00Z"), 951782400);
    EXPECT_EQ(parse_rfc3339_seconds("1969-12-31T23:59:59Z"), -1);
}

TEST(Rfc3339, FractionDropped) {
    EXPECT_EQ(parse_rfc3339_seconds("2024-05-01T12:34:56.999999Z"), 1714566896);
    EXPECT_EQ(parse_rfc3339_seconds("2024-05-01T12:34:56.1Z"), 1714566896);
    EXPECT_EQ(parse_rfc3339_seconds("2024-05-01T12:34:56.000Z"), 1714566896);
    // Floor, not truncation toward zero: 0.5 s before the epoch is second -1.
    EXPECT_EQ(parse_rfc3339_seconds("1969-12-31T23:59:59.5Z"), -1);
}

TEST(Rfc3339, Offsets) {
    EXPECT_EQ(parse_rfc3339_seconds("2024-05-01T14:34:56+02:00"), 1714566896);
    EXPECT_EQ(parse_rfc3339_seconds("2024-05-01T05:34:56-07:00"), 1714566896);
    EXPECT_EQ(parse_rfc3339_seconds("2024-05-01T12:34:56+00:00"), 1714566896);
    EXPECT_EQ(parse_rfc3339_seconds("2024-05-01T12:34:56-00:00"), 1714566896);
    EXPECT_EQ(parse_rfc3339_seconds("2024-05-01T18:04:56.75+05:30"), 1714566896);
    EXPECT_EQ(parse_rfc3339_seconds("2024-05-01T00:30:00+01:00"), 1714519800);  // crosses the day backwards
}

TEST(Rfc3339, LowercaseAndLeapSecond) {
    EXPECT_EQ(parse_rfc3339_seconds("2024-05-01t12:34:56z"), 1714566896);
    EXPECT_EQ(parse_rfc3339_seconds("2016-12-31T23:59:60Z"), 1483228800);
}

TEST(Rfc3339, Garbage) {
    for (const char* bad :
         {"", "2024-05-01", "2024-05-01T12:34:56", "2024-05-01 12:34:56Z", "2024-13-01T00:00:00Z",
          "2024-00-01T00:00:00Z", "2024-02-30T00:00:00Z", "2023-02-29T00:00:00Z", "2024-04-31T00:00:00Z",
          "2024-05-00T00:00:00Z", "2024-05-01T24:00:00Z", "2024-05-01T12:60:00Z", "2024-05-01T12:00:61Z",
          "2024-05-01T12:34:56.Z", "2024-05-01T12:34:56+0200", "2024-05-01T12:34:56+2:00", "2024-05-01T12:34:56+24:00",
          "2024-05-01T12:34:56+02:60", "2024-05-01T12:34:56ZZ", "2024-05-01T12:34:56Z ", " 2024-05-01T12:34:56Z",
          "24-05-01T12:34:56Z", "2024-5-1T12:34:56Z", "2024-05-01T12:34Z", "abcd-ef-ghTij:kl:mnZ",
          "2024-05-01T12:34:56GMT", "+2024-05-01T12:34:56Z", "2024/05/01T12:34:56Z"}) {
        EXPECT_EQ(parse_rfc3339_seconds(bad), std::nullopt) << bad;
    }
}

TEST(Rfc3339, RandomNeverCrashes) {
    std::mt19937 rng(7);
    const std::string alphabet = "0123456789-:TZtz+.";
    for (int i = 0; i < 20000; ++i) {
        std::string s(rng() % 32, ' ');
        for (char& c : s) c = alphabet[rng() % alphabet.size()];
        (void)parse_rfc3339_seconds(s);
        (void)parse_iso8601_duration("P" + s);
    }
}

// ------------------------------------------------------------------------------------------ Retry-After

TEST(RetryAfter, DeltaSeconds) {
    EXPECT_EQ(parse_retry_after("120", 1000), 120);
    EXPECT_EQ(parse_retry_after("0", 1000), 0);
    EXPECT_EQ(parse_retry_after("  7\t", 1000), 7);
    EXPECT_EQ(parse_retry_after("007", 1000), 7);
}

TEST(RetryAfter, HttpDate) {
    const int64_t t = 784111777;  // Sun, 06 Nov 1994 08:49:37 GMT
    EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", t - 30), 30);
    EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", t), 0);
    EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", t + 3600), 0);  // in the past: now
    EXPECT_EQ(parse_retry_after("sun, 06 nov 1994 08:49:37 GMT", t - 1), 1);
    EXPECT_EQ(parse_retry_after(" Wed, 01 May 2024 12:35:56 GMT ", 1714566896), 60);
}

TEST(RetryAfter, Invalid) {
    for (const char* bad : {"", "   ", "-5", "+5", "1.5", "12abc", "99999999999999999999999",
                            "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994",
                            "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 06 Foo 1994 08:49:37 GMT",
                            "Xyz, 06 Nov 1994 08:49:37 GMT", "Sun, 31 Nov 1994 08:49:37 GMT",
                            "Sun, 06 Nov 1994 25:49:37 GMT", "Sun,06 Nov 1994 08:49:37 GMT"}) {
        EXPECT_EQ(parse_retry_after(bad, 0), std::nullopt) << bad;
    }
}

// ------------------------------------------------------------------------------------------ videos.list

// A complete item as the API sends it with part=snippet,contentDetails,statistics,status.
std::string full_item(const std::string& id = "dQw4w9WgXcQ") {
    return R"({
      "kind": "youtube#video",
      "etag": "abc",
      "id": ")" + id + R"(",
      "snippet": {
        "publishedAt": "2009-10-25T06:57:33Z",
        "channelId": "UCuAXFkgsw1L7xaCfnd5JJOw",
        "title": "Rick Astley - Never Gonna Give You Up",
        "description": "ignored",
        "thumbnails": {"default": {"url": "https://i.ytimg.com/vi/x/default.jpg", "width": 120, "height": 90}},
        "channelTitle": "Rick Astley",
        "tags": ["a", "b"],
        "categoryId": "10",
        "liveBroadcastContent": "none",
        "localized": {"title": "t", "description": "d"},
        "defaultAudioLanguage": "en"
      },
      "contentDetails": {
        "duration": "PT3M33S",
        "dimension": "2d",
        "definition": "hd",
        "caption": "true",
        "licensedContent": true,
        "contentRating": {},
        "projection": "rectangular"
      },
      "statistics": {
        "viewCount": "1500000000",
        "likeCount": "17000000",
        "favoriteCount": "0",
        "commentCount": "2300000"
      },
      "status": {
        "uploadStatus": "processed",
        "privacyStatus": "public",
        "license": "youtube",
        "embeddable": true,
        "publicStatsViewable": true,
        "madeForKids": false
      }
    })";
}

std::string list_of(const std::vector<std::string>& items) {
    std::string body = R"({"kind":"youtube#videoListResponse","etag":"e","items":[)";
    for (size_t i = 0; i < items.size(); ++i) {
        if (i) body += ',';
        body += items[i];
    }
    body += R"(],"pageInfo":{"totalResults":)" + std::to_string(items.size()) +
            R"(,"resultsPerPage":)" + std::to_string(items.size()) + "}}";
    return body;
}

VideoMeta parse_one(const std::string& item) {
    std::vector<VideoMeta> out;
    std::string error;
    EXPECT_TRUE(parse_videos_list(list_of({item}), 1700000000, out, &error)) << error;
    EXPECT_EQ(out.size(), 1u);
    return out.empty() ? VideoMeta{} : out[0];
}

bool rejects(const std::string& body, std::string* error_out = nullptr) {
    std::vector<VideoMeta> out;
    out.emplace_back().video_id = "untouched00";
    std::string error;
    const bool ok = parse_videos_list(body, 1, out, &error);
    EXPECT_EQ(out.size(), 1u) << "output must be untouched on failure";
    EXPECT_EQ(out[0].video_id, "untouched00");
    if (!ok) {
        EXPECT_FALSE(error.empty());
    }
    if (error_out) *error_out = error;
    return !ok;
}

TEST(VideosList, FullItem) {
    const VideoMeta m = parse_one(full_item());
    EXPECT_EQ(m.video_id, "dQw4w9WgXcQ");
    EXPECT_EQ(m.title, "Rick Astley - Never Gonna Give You Up");
    EXPECT_EQ(m.channel_id, "UCuAXFkgsw1L7xaCfnd5JJOw");
    EXPECT_EQ(m.channel_title, "Rick Astley");
    EXPECT_EQ(m.channel_handle, std::nullopt);
    EXPECT_EQ(m.published_at, 1256453853);
    EXPECT_EQ(m.duration_seconds, 213);
    EXPECT_EQ(m.view_count, 1500000000);
    EXPECT_EQ(m.like_count, 17000000);
    EXPECT_EQ(m.comment_count, 2300000);
    EXPECT_EQ(m.category_id, "10");
    EXPECT_EQ(m.live_broadcast_content, "none");
    EXPECT_FALSE(m.age_restricted);
    EXPECT_TRUE(m.licensed_content);
    EXPECT_TRUE(m.embeddable);
    EXPECT_FALSE(m.made_for_kids);
    EXPECT_EQ(m.privacy_status, "public");
    EXPECT_EQ(m.allowed_countries, std::nullopt);
    EXPECT_TRUE(m.blocked_countries.empty());
    EXPECT_EQ(m.fetched_at, 1700000000);
}

std::string replace(std::string s, const std::string& from, const std::string& to) {
    const size_t at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) s.replace(at, from.size(), to);
    return s;
}

TEST(VideosList, FractionalPublishedAtFloored) {
    const auto m = parse_one(replace(full_item(), "2009-10-25T06:57:33Z", "2009-10-25T06:57:33.987654Z"));
    EXPECT_EQ(m.published_at, 1256453853);
}

TEST(VideosList, AbsentDurationIsZero) {
    EXPECT_EQ(parse_one(replace(full_item(), R"("duration": "PT3M33S",)", "")).duration_seconds, 0);
}

TEST(VideosList, LiveAndUpcomingP0D) {
    auto item = replace(full_item(), "PT3M33S", "P0D");
    item = replace(item, R"("liveBroadcastContent": "none")", R"("liveBroadcastContent": "live")");
    const auto m = parse_one(item);
    EXPECT_EQ(m.duration_seconds, 0);
    EXPECT_EQ(m.live_broadcast_content, "live");
    EXPECT_EQ(parse_one(replace(full_item(), R"("none")", R"("upcoming")")).live_broadcast_content, "upcoming");
}

TEST(VideosList, LongDuration) {
    EXPECT_EQ(parse_one(replace(full_item(), "PT3M33S", "P1DT2H3M4S")).duration_seconds, 93784);
}

TEST(VideosList, HiddenCounts) {
    const auto no_likes = parse_one(replace(full_item(), R"("likeCount": "17000000",)", ""));
    EXPECT_EQ(no_likes.like_count, std::nullopt);
    EXPECT_EQ(no_likes.view_count, 1500000000);
    EXPECT_EQ(no_likes.comment_count, 2300000);

    const auto no_comments = parse_one(replace(full_item(), R"(,
        "commentCount": "2300000")", ""));
    EXPECT_EQ(no_comments.comment_count, std::nullopt);
    EXPECT_EQ(no_comments.like_count, 17000000);

    const auto no_stats = parse_one(replace(full_item(), R"("statistics": {)", R"("statistics_gone": {)"));
    EXPECT_EQ(no_stats.view_count, std::nullopt);
    EXPECT_EQ(no_stats.like_count, std::nullopt);
    EXPECT_EQ(no_stats.comment_count, std::nullopt);

    const auto zeros = parse_one(replace(full_item(), R"("viewCount": "1500000000")", R"("viewCount": "0")"));
    EXPECT_EQ(zeros.view_count, 0);
}

TEST(VideosList, CountsEdges) {
    EXPECT_EQ(parse_one(replace(full_item(), "1500000000", "9223372036854775807")).view_count,
              INT64_MAX);
    EXPECT_EQ(parse_one(replace(full_item(), R"("1500000000")", "1500000000")).view_count, 1500000000);
    EXPECT_EQ(parse_one(replace(full_item(), R"("likeCount": "17000000")", R"("likeCount": null)")).like_count,
              std::nullopt);
    for (const char* bad : {R"("9223372036854775808")", R"("99999999999999999999999")", R"("-5")", R"("")",
                            R"("12abc")", R"(" 12")", R"("1.5")", R"("1e3")", "-5", "1.5", "1e30", "true",
                            "[]", "{}", "18446744073709551615"}) {
        EXPECT_TRUE(rejects(list_of({replace(full_item(), R"("1500000000")", bad)}))) << bad;
    }
}

TEST(VideosList, RegionRestrictionShapes) {
    const std::string cd = R"("contentDetails": {)";
    const auto allowed = parse_one(
        replace(full_item(), cd, cd + R"("regionRestriction": {"allowed": ["US", "CA", "GB"]},)"));
    ASSERT_TRUE(allowed.allowed_countries.has_value());
    EXPECT_EQ(*allowed.allowed_countries, (std::vector<std::string>{"US", "CA", "GB"}));
    EXPECT_TRUE(allowed.blocked_countries.empty());

    const auto nowhere = parse_one(replace(full_item(), cd, cd + R"("regionRestriction": {"allowed": []},)"));
    ASSERT_TRUE(nowhere.allowed_countries.has_value());
    EXPECT_TRUE(nowhere.allowed_countries->empty());

    const auto blocked =
        parse_one(replace(full_item(), cd, cd + R"("regionRestriction": {"blocked": ["DE", "RU"]},)"));
    EXPECT_EQ(blocked.allowed_countries, std::nullopt);
    EXPECT_EQ(blocked.blocked_countries, (std::vector<std::string>{"DE", "RU"}));

    const auto empty_block = parse_one(replace(full_item(), cd, cd + R"("regionRestriction": {"blocked": []},)"));
    EXPECT_EQ(empty_block.allowed_countries, std::nullopt);
    EXPECT_TRUE(empty_block.blocked_countries.empty());

    const auto empty_rr = parse_one(replace(full_item(), cd, cd + R"("regionRestriction": {},)"));
    EXPECT_EQ(empty_rr.allowed_countries, std::nullopt);
    EXPECT_TRUE(empty_rr.blocked_countries.empty());

    // Never both per the API, but if it happens both are kept as given.
    const auto both = parse_one(
        replace(full_item(), cd, cd + R"("regionRestriction": {"allowed": ["FR"], "blocked": ["US"]},)"));
    EXPECT_EQ(both.allowed_countries, (std::vector<std::string>{"FR"}));
    EXPECT_EQ(both.blocked_countries, (std::vector<std::string>{"US"}));

    for (const char* bad : {R"("regionRestriction": {"allowed": "US"},)", R"("regionRestriction": {"blocked": [1]},)",
                            R"("regionRestriction": ["US"],)", R"("regionRestriction": {"allowed": [null]},)"}) {
        EXPECT_TRUE(rejects(list_of({replace(full_item(), cd, cd + bad)}))) << bad;
    }
}

TEST(VideosList, AgeRestriction) {
    const std::string from = R"("contentRating": {})";
    EXPECT_TRUE(
        parse_one(replace(full_item(), from, R"("contentRating": {"ytRating": "ytAgeRestricted"})")).age_restricted);
    EXPECT_FALSE(parse_one(replace(full_item(), from, R"("contentRating": {"ytRating": "somethingElse"})"))
                     .age_restricted);
    EXPECT_FALSE(parse_one(replace(full_item(), from, R"("contentRating": {"mpaaRating": "mpaaR"})")).age_restricted);
    EXPECT_FALSE(parse_one(replace(full_item(), from, R"("noRating": {})")).age_restricted);
    EXPECT_TRUE(rejects(list_of({replace(full_item(), from, R"("contentRating": {"ytRating": 1})")})));
    EXPECT_TRUE(rejects(list_of({replace(full_item(), from, R"("contentRating": "ytAgeRestricted")")})));
}

TEST(VideosList, AbsentBooleansAreFalse) {
    std::string item = replace(full_item(), R"("licensedContent": true,)", "");
    item = replace(item, R"("embeddable": true,)", "");
    item = replace(item, R"(,
        "madeForKids": false)", "");
    const auto m = parse_one(item);
    EXPECT_FALSE(m.licensed_content);
    EXPECT_FALSE(m.embeddable);
    EXPECT_FALSE(m.made_for_kids);

    EXPECT_TRUE(parse_one(replace(full_item(), R"("madeForKids": false)", R"("madeForKids": true)")).made_for_kids);
    // caption is a string "true"/"false" and is not ours: it must not be confused with a boolean.
    EXPECT_TRUE(rejects(list_of({replace(full_item(), R"("embeddable": true)", R"("embeddable": "true")")})));
}

TEST(VideosList, MinimalItem) {
    // Only id and snippet: every other part absent.
    const auto m = parse_one(R"({"id":"abcdefghijk","snippet":{}})");
    VideoMeta expected;
    expected.video_id = "abcdefghijk";
    expected.fetched_at = 1700000000;
    EXPECT_EQ(m, expected);
}

TEST(VideosList, UnicodeAndEscapes) {
    const auto m = parse_one(replace(
        full_item(), R"("title": "Rick Astley - Never Gonna Give You Up")",
        R"("title": "Caf\u00e9 \"quoted\" \\ back\/slash \ud83d\ude00 ü日本語 🎵\n\ttab")"));
    EXPECT_EQ(m.title, "Caf\xc3\xa9 \"quoted\" \\ back/slash \xf0\x9f\x98\x80 \xc3\xbc\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e "
                       "\xf0\x9f\x8e\xb5\n\ttab");
    // Invalid UTF-8 in the body is malformed JSON for simdjson.
    EXPECT_TRUE(rejects(list_of({replace(full_item(), "Rick Astley - Never", "Rick \xff\xfe Never")})));
    // Embedded NUL via escape survives.
    const auto nul = parse_one(replace(full_item(), R"("title": "Rick Astley - Never Gonna Give You Up")",
                                       R"("title": "a\u0000b")"));
    EXPECT_EQ(nul.title, std::string("a\0b", 3));
}

TEST(VideosList, ItemsOutOfRequestOrderAndUnknownIdsOmitted) {
    std::vector<VideoMeta> out;
    ASSERT_TRUE(parse_videos_list(list_of({full_item("cccccccccc3"), full_item("aaaaaaaaaa1"), full_item("bbbbbbbbbb2")}),
                                  5, out));
    ASSERT_EQ(out.size(), 3u);
    EXPECT_EQ(out[0].video_id, "cccccccccc3");
    EXPECT_EQ(out[1].video_id, "aaaaaaaaaa1");
    EXPECT_EQ(out[2].video_id, "bbbbbbbbbb2");
    for (const auto& m : out) EXPECT_EQ(m.fetched_at, 5);
}

TEST(VideosList, AppendsToExistingOutput) {
    std::vector<VideoMeta> out(2);
    ASSERT_TRUE(parse_videos_list(list_of({full_item()}), 5, out));
    ASSERT_EQ(out.size(), 3u);
    EXPECT_EQ(out[2].video_id, "dQw4w9WgXcQ");
}

TEST(VideosList, EmptyItemsIsEmptySuccess) {
    std::vector<VideoMeta> out;
    EXPECT_TRUE(parse_videos_list(
        R"({"kind":"youtube#videoListResponse","etag":"x","items":[],"pageInfo":{"totalResults":0,"resultsPerPage":0}})",
        1, out));
    EXPECT_TRUE(out.empty());
    EXPECT_TRUE(parse_videos_list(R"({"items":[]})", 1, out));
}

TEST(VideosList, PaddingIndependentOfCapacity) {
    // Same body parsed from a tight string (copied into a padded buffer) and a roomy one (parsed in place).
    std::string tight = list_of({full_item()});
    tight.shrink_to_fit();
    std::string roomy = tight;
    roomy.reserve(roomy.size() + 4096);
    std::vector<VideoMeta> a, b;
    ASSERT_TRUE(parse_videos_list(tight, 1, a));
    ASSERT_TRUE(parse_videos_list(roomy, 1, b));
    EXPECT_EQ(a, b);
}

TEST(VideosList, MalformedBodies) {
    const std::string good = list_of({full_item()});
    std::string error;
    EXPECT_TRUE(rejects("", &error));
    EXPECT_TRUE(rejects("not json"));
    EXPECT_TRUE(rejects("<html><body>502 Bad Gateway</body></html>"));
    EXPECT_TRUE(rejects(good.substr(0, good.size() / 2)));  // truncated
    EXPECT_TRUE(rejects(good.substr(0, good.size() - 1)));
    EXPECT_TRUE(rejects(good + "}"));
    EXPECT_TRUE(rejects("[]"));
    EXPECT_TRUE(rejects(R"([{"items":[]}])"));
    EXPECT_TRUE(rejects("null"));
    EXPECT_TRUE(rejects("42"));
    EXPECT_TRUE(rejects(R"("items")"));
    EXPECT_TRUE(rejects("{}", &error));
    EXPECT_EQ(error, "no items");
    EXPECT_TRUE(rejects(R"({"items":null})"));
    EXPECT_TRUE(rejects(R"({"items":"dQw4w9WgXcQ"})", &error));
    EXPECT_EQ(error, "items is not an array");
    EXPECT_TRUE(rejects(R"({"items":{}})"));
    EXPECT_TRUE(rejects(R"({"error":{"code":403,"message":"x","errors":[{"reason":"quotaExceeded"}]}})"));
}

TEST(VideosList, BadItemFailsWholeBody) {
    std::string error;
    const std::string no_id = replace(full_item(), R"("id": "dQw4w9WgXcQ",)", "");
    EXPECT_TRUE(rejects(list_of({full_item("aaaaaaaaaa1"), no_id}), &error));
    EXPECT_EQ(error, "items[1]: no valid id");
    EXPECT_TRUE(rejects(list_of({full_item("short")})));
    EXPECT_TRUE(rejects(list_of({full_item("dQw4w9WgXc!")})));
    EXPECT_TRUE(rejects(list_of({replace(full_item(), R"("id": "dQw4w9WgXcQ")", R"("id": 12345678901)")})));
    EXPECT_TRUE(rejects(list_of({replace(full_item(), R"("id": "dQw4w9WgXcQ")",
                                         R"("id": {"kind":"youtube#video","videoId":"dQw4w9WgXcQ"})")})));
    EXPECT_TRUE(rejects(list_of({"42"})));
    EXPECT_TRUE(rejects(list_of({"null"})));
    EXPECT_TRUE(rejects(list_of({"[]"})));
    EXPECT_TRUE(rejects(list_of({R"({"id":"abcdefghijk"})"}), &error));  // snippet missing
    EXPECT_EQ(error, "items[0]: no snippet object");
    EXPECT_TRUE(rejects(list_of({R"({"id":"abcdefghijk","snippet":"x"})"})));
    EXPECT_TRUE(rejects(list_of({R"({"id":"abcdefghijk","snippet":[]})"})));
}

TEST(VideosList, WrongFieldTypesFail) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {R"("title": "Rick Astley - Never Gonna Give You Up")", R"("title": 5)"},
        {R"("channelId": "UCuAXFkgsw1L7xaCfnd5JJOw")", R"("channelId": ["x"])"},
        {R"("categoryId": "10")", R"("categoryId": 10)"},
        {R"("publishedAt": "2009-10-25T06:57:33Z")", R"("publishedAt": 1256453853)"},
        {R"("publishedAt": "2009-10-25T06:57:33Z")", R"("publishedAt": "yesterday")"},
        {R"("duration": "PT3M33S")", R"("duration": 213)"},
        {R"("duration": "PT3M33S")", R"("duration": "3:33")"},
        {R"("duration": "PT3M33S")", R"("duration": "P1Y")"},
        {R"("licensedContent": true)", R"("licensedContent": "true")"},
        {R"("privacyStatus": "public")", R"("privacyStatus": false)"},
        {R"("contentDetails": {)", R"("contentDetails": 1, "x": {)"},
        {R"("statistics": {)", R"("statistics": [], "x": {)"},
        {R"("status": {)", R"("status": "public", "x": {)"},
    };
    for (const auto& [from, to] : cases) {
        EXPECT_TRUE(rejects(list_of({replace(full_item(), from, to)}))) << to;
    }
}

TEST(VideosList, NullFieldsAreAbsent) {
    const auto m = parse_one(R"({"id":"abcdefghijk","snippet":{"title":null,"publishedAt":null},
        "contentDetails":{"duration":null,"regionRestriction":{"allowed":null}},"statistics":null,"status":null})");
    EXPECT_EQ(m.title, "");
    EXPECT_EQ(m.published_at, 0);
    EXPECT_EQ(m.duration_seconds, 0);
    EXPECT_EQ(m.allowed_countries, std::nullopt);
}

TEST(VideosList, RandomMutationsNeverCrash) {
    const std::string good = list_of({full_item("aaaaaaaaaa1"), full_item("bbbbbbbbbb2")});
    std::mt19937 rng(12345);
    int accepted = 0;
    for (int i = 0; i < 3000; ++i) {
        std::string body = good;
        const int edits = 1 + static_cast<int>(rng() % 4);
        for (int e = 0; e < edits; ++e) {
            const size_t at = rng() % body.size();
            switch (rng() % 3) {
                case 0: body[at] = static_cast<char>(rng() % 256); break;
                case 1: body.erase(at, 1 + rng() % 8); break;
                default: body.insert(at, 1, "{}[]\",:0"[rng() % 8]); break;
            }
            if (body.empty()) body = "x";
        }
        std::vector<VideoMeta> out;
        std::string error;
        if (parse_videos_list(body, 1, out, &error)) {
            ++accepted;
            for (const auto& m : out) EXPECT_TRUE(is_valid_video_id(m.video_id));
        } else {
            EXPECT_TRUE(out.empty());
        }
    }
    SUCCEED() << accepted << " mutated bodies still parsed";
}

// ------------------------------------------------------------------------------------------ channels.list

TEST(ChannelsList, Handles) {
    const std::string body = R"({"kind":"youtube#channelListResponse","items":[
        {"kind":"youtube#channel","id":"UCaaaaaaaaaaaaaaaaaaaaaa","snippet":{"title":"A","customUrl":"@alpha"}},
        {"kind":"youtube#channel","id":"UCbbbbbbbbbbbbbbbbbbbbbb","snippet":{"title":"B"}},
        {"kind":"youtube#channel","id":"UCcccccccccccccccccccccc"},
        {"kind":"youtube#channel","id":"UCdddddddddddddddddddddd","snippet":{"customUrl":"@d\u00e9lta"}},
        {"kind":"youtube#channel","id":"UCeeeeeeeeeeeeeeeeeeeeee","snippet":{"customUrl":""}}
    ]})";
    std::vector<std::pair<std::string, std::string>> handles;
    std::string error;
    ASSERT_TRUE(parse_channels_list(body, handles, &error)) << error;
    ASSERT_EQ(handles.size(), 2u);
    EXPECT_EQ(handles[0], (std::pair<std::string, std::string>{"UCaaaaaaaaaaaaaaaaaaaaaa", "@alpha"}));
    EXPECT_EQ(handles[1], (std::pair<std::string, std::string>{"UCdddddddddddddddddddddd", "@d\xc3\xa9lta"}));
}

TEST(ChannelsList, EmptyAndMalformed) {
    std::vector<std::pair<std::string, std::string>> handles{{"keep", "@keep"}};
    EXPECT_TRUE(parse_channels_list(R"({"items":[]})", handles));
    EXPECT_EQ(handles.size(), 1u);
    for (const char* bad : {"", "[]", "{}", R"({"items":"x"})", R"({"items":[1]})", R"({"items":[{"snippet":{}}]})",
                            R"({"items":[{"id":""}]})", R"({"items":[{"id":5}]})",
                            R"({"items":[{"id":"UCa","snippet":"x"}]})",
                            R"({"items":[{"id":"UCa","snippet":{"customUrl":"@a"}},{"id":"UCb","snippet":{"customUrl":7}}]})",
                            R"({"items":[)"}) {
        std::string error;
        EXPECT_FALSE(parse_channels_list(bad, handles, &error)) << bad;
        EXPECT_FALSE(error.empty()) << bad;
        EXPECT_EQ(handles.size(), 1u) << bad;
    }
}

// ------------------------------------------------------------------------------------------ error envelope

std::string envelope(int code, const std::string& reason, const std::string& message = "m",
                     const std::string& domain = "youtube.quota") {
    return R"({"error":{"code":)" + std::to_string(code) + R"(,"message":")" + message +
           R"(","errors":[{"message":")" + message + R"(","domain":")" + domain + R"(","reason":")" + reason +
           R"("}]}})";
}

TEST(Classify, Success) {
    EXPECT_EQ(classify_http_response(200, "").error_class, ErrorClass::none);
    EXPECT_EQ(classify_http_response(200, envelope(403, "quotaExceeded")).error_class, ErrorClass::none);
    EXPECT_EQ(classify_http_response(200, "{}").reason, "");
}

TEST(Classify, QuotaExceededWithHtmlMessage) {
    const std::string msg =
        R"(The request cannot be completed because you have exceeded your <a href=\"/youtube/v3/getting-started#quota\">quota</a>.)";
    const auto e = classify_http_response(403, envelope(403, "quotaExceeded", msg));
    EXPECT_EQ(e.error_class, ErrorClass::quota);
    EXPECT_EQ(e.reason, "quotaExceeded");
    EXPECT_EQ(e.reason.find('<'), std::string::npos);
    EXPECT_EQ(classify_http_response(403, envelope(403, "dailyLimitExceeded", "x", "usageLimits")).error_class,
              ErrorClass::quota);
}

TEST(Classify, RateLimits) {
    const auto e403 = classify_http_response(403, envelope(403, "rateLimitExceeded", "slow", "usageLimits"));
    EXPECT_EQ(e403.error_class, ErrorClass::rate_limited);
    EXPECT_EQ(e403.reason, "rateLimitExceeded");
    EXPECT_EQ(classify_http_response(403, envelope(403, "userRateLimitExceeded")).error_class,
              ErrorClass::rate_limited);
    const auto e429 = classify_http_response(429, envelope(429, "rateLimitExceeded"));
    EXPECT_EQ(e429.error_class, ErrorClass::rate_limited);
    EXPECT_EQ(e429.reason, "rateLimitExceeded");
    EXPECT_EQ(classify_http_response(429, "").error_class, ErrorClass::rate_limited);
    EXPECT_EQ(classify_http_response(429, "Too Many Requests").error_class, ErrorClass::rate_limited);
}

TEST(Classify, BadRequests) {
    const auto key = classify_http_response(400, envelope(400, "keyInvalid", "API key not valid.", "usageLimits"));
    EXPECT_EQ(key.error_class, ErrorClass::bad_request);
    EXPECT_EQ(key.reason, "keyInvalid");
    for (const char* r : {"badRequest", "required", "unknownPart"}) {
        const auto e = classify_http_response(400, envelope(400, r, "x", "global"));
        EXPECT_EQ(e.error_class, ErrorClass::bad_request) << r;
        EXPECT_EQ(e.reason, r);
    }
    EXPECT_EQ(classify_http_response(400, "").error_class, ErrorClass::bad_request);
    EXPECT_EQ(classify_http_response(404, "Not Found").error_class, ErrorClass::bad_request);
    EXPECT_EQ(classify_http_response(413, "").error_class, ErrorClass::bad_request);
    EXPECT_EQ(classify_http_response(408, "").error_class, ErrorClass::timeout);
}

TEST(Classify, Forbidden) {
    const auto e = classify_http_response(403, envelope(403, "forbidden", "no", "youtube.video"));
    EXPECT_EQ(e.error_class, ErrorClass::forbidden);
    EXPECT_EQ(e.reason, "forbidden");
    EXPECT_EQ(classify_http_response(403, "").error_class, ErrorClass::forbidden);
    EXPECT_EQ(classify_http_response(401, envelope(401, "authError")).error_class, ErrorClass::forbidden);
}

TEST(Classify, ServerErrors) {
    for (long s : {500L, 502L, 503L, 504L, 599L}) {
        EXPECT_EQ(classify_http_response(s, "<html>oops</html>").error_class, ErrorClass::server) << s;
    }
    const auto e = classify_http_response(503, envelope(503, "backendError", "x", "global"));
    EXPECT_EQ(e.error_class, ErrorClass::server);
    EXPECT_EQ(e.reason, "backendError");
}

TEST(Classify, UnexpectedStatuses) {
    for (long s : {0L, 100L, 101L, 301L, 304L, 600L, -1L}) {
        EXPECT_EQ(classify_http_response(s, "").error_class, ErrorClass::malformed) << s;
    }
}

TEST(Classify, UnparsableOrOddBodiesStillClassifyByStatus) {
    for (const std::string& body :
         {std::string(""), std::string("{"), std::string("[]"), std::string(R"({"error":"quotaExceeded"})"),
          std::string(R"({"error":{"errors":[]}})"), std::string(R"({"error":{"errors":[{"reason":5}]}})"),
          std::string(R"({"error":{"errors":"x"}})"), std::string("\xff\xfe")}) {
        const auto e = classify_http_response(403, body);
        EXPECT_EQ(e.error_class, ErrorClass::forbidden) << body;
        EXPECT_EQ(e.reason, "") << body;
        EXPECT_EQ(classify_http_response(502, body).error_class, ErrorClass::server);
    }
}

TEST(Classify, ReasonIsSanitised) {
    EXPECT_EQ(classify_http_response(403, envelope(403, "<b>evil</b>")).reason, "");
    EXPECT_EQ(classify_http_response(403, envelope(403, "a b")).reason, "");
    EXPECT_EQ(classify_http_response(403, envelope(403, std::string(65, 'a'))).reason, "");
    EXPECT_EQ(classify_http_response(403, envelope(403, std::string(64, 'a'))).reason, std::string(64, 'a'));
    // Only errors[0] counts, as the API documents the first error as the one that matters.
    const std::string two =
        R"({"error":{"code":403,"errors":[{"reason":"forbidden"},{"reason":"quotaExceeded"}]}})";
    EXPECT_EQ(classify_http_response(403, two).error_class, ErrorClass::forbidden);
}

}  // namespace
}  // namespace vault_metadata
