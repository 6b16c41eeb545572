#include "pacific_time.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace vault_metadata {
namespace {

constexpr int64_t kPst = -8 * 3600;
constexpr int64_t kPdt = -7 * 3600;
constexpr int64_t kHour = 3600;
constexpr int64_t kDay = 86400;

// The first second of daylight time (02:00 PST -> 03:00 PDT) and of standard time again (02:00 PDT -> 01:00 PST),
// as Unix seconds, taken from the IANA tz database.
struct Transitions {
    int year;
    int64_t dst_start;
    int64_t dst_end;
};
constexpr Transitions kTransitions[] = {
    {2024, 1710064800, 1730624400},  // 2024-03-10, 2024-11-03
    {2025, 1741514400, 1762074000},  // 2025-03-09, 2025-11-02
    {2026, 1772964000, 1793523600},  // 2026-03-08, 2026-11-01
    {2030, 1899367200, 1919926800},  // 2030-03-10, 2030-11-03
};

TEST(PacificTime, OffsetSwitchesExactlyAtBothTransitions) {
    for (const auto& t : kTransitions) {
        SCOPED_TRACE(t.year);
        EXPECT_EQ(pacific_utc_offset_seconds(t.dst_start - kDay), kPst);
        EXPECT_EQ(pacific_utc_offset_seconds(t.dst_start - 1), kPst);
        EXPECT_EQ(pacific_utc_offset_seconds(t.dst_start), kPdt);
        EXPECT_EQ(pacific_utc_offset_seconds(t.dst_start + kDay), kPdt);
        EXPECT_EQ(pacific_utc_offset_seconds(t.dst_end - kDay), kPdt);
        EXPECT_EQ(pacific_utc_offset_seconds(t.dst_end - 1), kPdt);
        EXPECT_EQ(pacific_utc_offset_seconds(t.dst_end), kPst);
        EXPECT_EQ(pacific_utc_offset_seconds(t.dst_end + kDay), kPst);
    }
}

TEST(PacificTime, OffsetAcrossTheYear) {
    EXPECT_EQ(pacific_utc_offset_seconds(1735689600), kPst);  // 2025-01-01 00:00 UTC
    EXPECT_EQ(pacific_utc_offset_seconds(1751371200), kPdt);  // 2025-07-01 12:00 UTC
    EXPECT_EQ(pacific_utc_offset_seconds(1767225599), kPst);  // 2025-12-31 23:59:59 UTC
    EXPECT_EQ(pacific_utc_offset_seconds(0), kPst);           // proleptic rules before 2007
}

TEST(PacificTime, DayKeyFollowsLosAngelesNotUtc) {
    EXPECT_EQ(pacific_day_key(1735718399), "2024-12-31");  // 2025-01-01 07:59:59 UTC
    EXPECT_EQ(pacific_day_key(1735718400), "2025-01-01");  // 2025-01-01 08:00:00 UTC = 00:00 PST
    EXPECT_EQ(pacific_day_key(1751612399), "2025-07-03");  // 2025-07-04 06:59:59 UTC
    EXPECT_EQ(pacific_day_key(1751612400), "2025-07-04");  // 00:00 PDT
    EXPECT_EQ(pacific_day_key(1709193599), "2024-02-28");
    EXPECT_EQ(pacific_day_key(1709193600), "2024-02-29");  // 2024-02-29 08:00 UTC = 00:00 PST, a leap day
    EXPECT_EQ(pacific_day_key(1709193600 + kDay), "2024-03-01");
    EXPECT_EQ(pacific_day_key(0), "1969-12-31");
}

TEST(PacificTime, DayKeyAroundTransitions) {
    // Spring: 01:59:59 PST and 03:00:00 PDT are the same day.
    EXPECT_EQ(pacific_day_key(1710064799), "2024-03-10");
    EXPECT_EQ(pacific_day_key(1710064800), "2024-03-10");
    // Fall: the repeated hour 01:00-01:59 belongs to the same day both times.
    EXPECT_EQ(pacific_day_key(1730624399), "2024-11-03");  // 01:59:59 PDT
    EXPECT_EQ(pacific_day_key(1730624400), "2024-11-03");  // 01:00:00 PST
    EXPECT_EQ(pacific_day_key(1730707199), "2024-11-03");  // 23:59:59 PST
    EXPECT_EQ(pacific_day_key(1730707200), "2024-11-04");  // 00:00:00 PST
}

TEST(PacificTime, NextMidnightOnTwentyThreeHourDays) {
    // 2024-03-10 00:00 PST -> 2024-03-11 00:00 PDT.
    EXPECT_EQ(pacific_next_midnight(1710057600), 1710140400);
    EXPECT_EQ(1710140400 - 1710057600, 23 * kHour);
    EXPECT_EQ(pacific_next_midnight(1710064799), 1710140400);
    EXPECT_EQ(pacific_next_midnight(1710064800), 1710140400);
    // 2026-03-08 00:00 PST -> 2026-03-09 00:00 PDT.
    EXPECT_EQ(pacific_next_midnight(1772956800), 1773039600);
    EXPECT_EQ(1773039600 - 1772956800, 23 * kHour);
}

TEST(PacificTime, NextMidnightOnTwentyFiveHourDays) {
    // 2024-11-03 00:00 PDT -> 2024-11-04 00:00 PST.
    EXPECT_EQ(pacific_next_midnight(1730617200), 1730707200);
    EXPECT_EQ(1730707200 - 1730617200, 25 * kHour);
    EXPECT_EQ(pacific_next_midnight(1730624399), 1730707200);
    EXPECT_EQ(pacific_next_midnight(1730624400), 1730707200);
    // 2030-11-03 00:00 PDT -> 2030-11-04 00:00 PST.
    EXPECT_EQ(pacific_next_midnight(1919919600), 1920009600);
    EXPECT_EQ(1920009600 - 1919919600, 25 * kHour);
}

TEST(PacificTime, NextMidnightOnOrdinaryDays) {
    // 2025-07-04 00:00 PDT: strictly after, so midnight itself leads to the next one.
    EXPECT_EQ(pacific_next_midnight(1751612400), 1751612400 + kDay);
    EXPECT_EQ(pacific_next_midnight(1751612400 - 1), 1751612400);
    EXPECT_EQ(pacific_next_midnight(1751612400 + 12 * kHour), 1751612400 + kDay);
    // 2025-01-01 00:00 PST.
    EXPECT_EQ(pacific_next_midnight(1735718400), 1735718400 + kDay);
    EXPECT_EQ(pacific_next_midnight(1735718400 - 1), 1735718400);
}

TEST(PacificTime, NextMidnightIsConsistentWithDayKeysEveryHour) {
    for (int64_t t = 1704067200; t < 1924992000; t += kHour + 17) {  // 2024-01-01 .. 2031-01-01, drifting seconds
        const int64_t midnight = pacific_next_midnight(t);
        ASSERT_GT(midnight, t);
        ASSERT_LE(midnight - t, 25 * kHour);
        ASSERT_EQ(pacific_day_key(midnight - 1), pacific_day_key(t)) << t;
        ASSERT_NE(pacific_day_key(midnight), pacific_day_key(t)) << t;
        ASSERT_EQ((midnight + pacific_utc_offset_seconds(midnight)) % kDay, 0) << t;
    }
}

}  // namespace
}  // namespace vault_metadata
