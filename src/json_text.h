// JSON string literals for the few places that write JSON by hand (log lines, IndexNow).
#pragma once

#include <string>
#include <string_view>

namespace vault_metadata {

// Appends `text` as a quoted JSON string: quotes, backslashes and control characters escaped.
void append_json_string(std::string& out, std::string_view text);

}  // namespace vault_metadata
