#include "pacific_time.h"

#include <algorithm>
#include <cstdio>

namespace vault_metadata {
namespace {

constexpr int64_t kSecondsPerDay = 86400;
constexpr int64_t kPst = -8 * 3600;
constexpr int64_t kPdt = -7 * 3600;
constexpr int64_t kMaxAbsSeconds = int64_t{1} << 50;

int64_t clamp_input(int64_t t) { return std::clamp(t, -kMaxAbsSeconds, kMaxAbsSeconds); }

int64_t floor_div(int64_t a, int64_t b) {
    const int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm: exact for any year, no tables).
int64_t days_from_civil(int64_t year, int64_t month, int64_t day) {
    year -= month <= 2 ? 1 : 0;
    const int64_t era = floor_div(year, 400);
    const int64_t yoe = year - era * 400;
    const int64_t doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

struct CivilDate {
    int64_t year;
    int64_t month;
    int64_t day;
};

CivilDate civil_from_days(int64_t days) {
    days += 719468;
    const int64_t era = floor_div(days, 146097);
    const int64_t doe = days - era * 146097;
    const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const int64_t mp = (5 * doy + 2) / 153;
    const int64_t day = doy - (153 * mp + 2) / 5 + 1;
    const int64_t month = mp < 10 ? mp + 3 : mp - 9;
    return {yoe + era * 400 + (month <= 2 ? 1 : 0), month, day};
}

// 0 = Sunday. 1970-01-01 was a Thursday.
int64_t weekday(int64_t days) { return days - floor_div(days + 4, 7) * 7 + 4; }

int64_t first_sunday_on_or_after(int64_t days) { return days + (7 - weekday(days)) % 7; }

}  // namespace

int64_t pacific_utc_offset_seconds(int64_t unix_seconds) {
    const int64_t t = clamp_input(unix_seconds);
    // The transitions lie in March and November, so the year of the instant in standard time is the right one
    // even around New Year.
    const int64_t year = civil_from_days(floor_div(t + kPst, kSecondsPerDay)).year;
    // 02:00 PST is 10:00 UTC; 02:00 PDT is 09:00 UTC.
    const int64_t dst_start = first_sunday_on_or_after(days_from_civil(year, 3, 8)) * kSecondsPerDay + 10 * 3600;
    const int64_t dst_end = first_sunday_on_or_after(days_from_civil(year, 11, 1)) * kSecondsPerDay + 9 * 3600;
    return (t >= dst_start && t < dst_end) ? kPdt : kPst;
}

std::string pacific_day_key(int64_t unix_seconds) {
    const int64_t t = clamp_input(unix_seconds);
    const CivilDate date = civil_from_days(floor_div(t + pacific_utc_offset_seconds(t), kSecondsPerDay));
    char buf[48];
    std::snprintf(buf, sizeof buf, "%04lld-%02lld-%02lld", static_cast<long long>(date.year),
                  static_cast<long long>(date.month), static_cast<long long>(date.day));
    return buf;
}

int64_t pacific_next_midnight(int64_t unix_seconds) {
    const int64_t t = clamp_input(unix_seconds);
    const int64_t local_day = floor_div(t + pacific_utc_offset_seconds(t), kSecondsPerDay);
    const int64_t next_local_midnight = (local_day + 1) * kSecondsPerDay;
    // Transitions happen at 02:00, never at midnight, so exactly one of the two offsets is consistent with itself.
    for (const int64_t offset : {kPst, kPdt}) {
        const int64_t utc = next_local_midnight - offset;
        if (pacific_utc_offset_seconds(utc) == offset) return utc;
    }
    return next_local_midnight - kPst;  // unreachable under the rules above
}

}  // namespace vault_metadata
