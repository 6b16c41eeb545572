// IndexNow: telling search engines which URLs changed. The checks and the wire format;
// the loop thread does the posting.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace vault_metadata {

// The protocol's limit on one submission.
inline constexpr size_t kIndexNowMaxBatch = 10000;

// 8 to 128 characters of a-z, A-Z, 0-9 and '-'.
bool is_valid_indexnow_key(std::string_view key) noexcept;

// An absolute http(s) URL on `host` (case-insensitive, port allowed), without user
// information, spaces or control characters. `why` says what is wrong otherwise.
bool is_acceptable_indexnow_url(std::string_view url, std::string_view host, std::string* why);

// The JSON body of one POST: {"host", "key", "keyLocation" (when set), "urlList"}.
std::string indexnow_body(std::string_view host, std::string_view key, std::string_view key_location,
                          const std::vector<std::string>& urls);

enum class IndexNowOutcome { done, retry, drop };

// 200 and 202 are done; 429 and 5xx (and no answer at all) are worth another try;
// 400, 403, 422 and anything else are dropped (and logged by the caller).
IndexNowOutcome indexnow_outcome(long http_status) noexcept;

}  // namespace vault_metadata
