// Calendar arithmetic for America/Los_Angeles, the time zone in which Google resets the YouTube quota.
//
// Computed from the US daylight-saving rules in force since 2007 (DST from the second Sunday of March,
// 02:00 standard time, to the first Sunday of November, 02:00 daylight time) instead of TZ/localtime:
// switching TZ is process-global and not thread-safe, and the answer must not depend on the host's tzdata.
// Years before 2007 are computed with the same rules (proleptic), which is fine for quota days.
// Inputs are clamped to about ±35 million years so that no arithmetic can overflow.
#pragma once

#include <cstdint>
#include <string>

namespace vault_metadata {

// UTC offset in seconds in force at `unix_seconds`: -28800 (PST) or -25200 (PDT).
int64_t pacific_utc_offset_seconds(int64_t unix_seconds);

// "YYYY-MM-DD" of the Los Angeles calendar day containing `unix_seconds`.
std::string pacific_day_key(int64_t unix_seconds);

// Unix seconds of the first 00:00 Los Angeles time strictly after `unix_seconds` (23- and 25-hour days included).
int64_t pacific_next_midnight(int64_t unix_seconds);

}  // namespace vault_metadata
