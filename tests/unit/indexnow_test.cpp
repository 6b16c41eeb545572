#include "indexnow.h"

#include <gtest/gtest.h>

namespace vault_metadata {
namespace {

TEST(IndexNow, KeyShape) {
    EXPECT_TRUE(is_valid_indexnow_key("abcd1234"));
    EXPECT_TRUE(is_valid_indexnow_key(std::string(128, 'a')));
    EXPECT_TRUE(is_valid_indexnow_key("a-B-c-1-2-3"));
    EXPECT_FALSE(is_valid_indexnow_key("short"));
    EXPECT_FALSE(is_valid_indexnow_key(std::string(129, 'a')));
    EXPECT_FALSE(is_valid_indexnow_key("has_underscore1"));
    EXPECT_FALSE(is_valid_indexnow_key("has space 1234"));
}

TEST(IndexNow, UrlsMustBeAbsoluteAndOnTheHost) {
    std::string why;
    EXPECT_TRUE(is_acceptable_indexnow_url("https://example.com/watch/abc", "example.com", &why));
    EXPECT_TRUE(is_acceptable_indexnow_url("http://EXAMPLE.com:8080/x?y=1", "example.com", &why));
    EXPECT_TRUE(is_acceptable_indexnow_url("https://example.com", "example.com", &why));
    EXPECT_FALSE(is_acceptable_indexnow_url("/relative/path", "example.com", &why));
    EXPECT_EQ(why, "not an absolute http(s) URL");
    EXPECT_FALSE(is_acceptable_indexnow_url("ftp://example.com/x", "example.com", &why));
    EXPECT_FALSE(is_acceptable_indexnow_url("https://other.com/x", "example.com", &why));
    EXPECT_EQ(why, "is not on the configured host");
    EXPECT_FALSE(is_acceptable_indexnow_url("https://example.com.evil.net/x", "example.com", &why));
    EXPECT_FALSE(is_acceptable_indexnow_url("https://user@example.com/x", "example.com", &why));
    EXPECT_FALSE(is_acceptable_indexnow_url("https://example.com/a b", "example.com", &why));
    EXPECT_FALSE(is_acceptable_indexnow_url("https:///x", "example.com", &why));
}

TEST(IndexNow, BodyIsTheProtocolsJson) {
    EXPECT_EQ(indexnow_body("example.com", "key12345", "https://example.com/key12345.txt",
                            {"https://example.com/a", "https://example.com/\"q\""}),
              "{\"host\":\"example.com\",\"key\":\"key12345\",\"keyLocation\":\"https://example.com/key12345.txt\","
              "\"urlList\":[\"https://example.com/a\",\"https://example.com/\\\"q\\\"\"]}");
    EXPECT_EQ(indexnow_body("example.com", "key12345", "", {}),
              "{\"host\":\"example.com\",\"key\":\"key12345\",\"urlList\":[]}");
}

TEST(IndexNow, Outcomes) {
    EXPECT_EQ(indexnow_outcome(200), IndexNowOutcome::done);
    EXPECT_EQ(indexnow_outcome(202), IndexNowOutcome::done);
    EXPECT_EQ(indexnow_outcome(429), IndexNowOutcome::retry);
    EXPECT_EQ(indexnow_outcome(503), IndexNowOutcome::retry);
    EXPECT_EQ(indexnow_outcome(0), IndexNowOutcome::retry);
    EXPECT_EQ(indexnow_outcome(400), IndexNowOutcome::drop);
    EXPECT_EQ(indexnow_outcome(403), IndexNowOutcome::drop);
    EXPECT_EQ(indexnow_outcome(422), IndexNowOutcome::drop);
}

}  // namespace
}  // namespace vault_metadata
