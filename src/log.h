// Structured log lines (one JSON object each). Any thread may log; the lines wait in a
// bounded queue until the PHP thread drains them into PHP's error log, because the
// loop thread must never call into PHP.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "video_meta.h"

namespace vault_metadata {

enum class LogLevel { error = 0, warning = 1, info = 2, debug = 3 };

bool parse_log_level(std::string_view name, LogLevel& out) noexcept;
void set_log_level(LogLevel level) noexcept;

// `detail` must never hold an API key, a URL with a key, or anything about a visitor.
void log_event(LogLevel level, std::string_view event, std::string_view correlation_id,
               ErrorClass error_class, std::string_view detail);

// Hands every queued line to `sink` (oldest first) and empties the queue. The count of
// lines dropped because the queue was full is reported in a line of its own.
void drain_log_lines(const std::function<void(const std::string& line)>& sink);

}  // namespace vault_metadata
