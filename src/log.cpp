#include "log.h"

#include "json_text.h"

#include <atomic>
#include <ctime>
#include <deque>
#include <mutex>

namespace vault_metadata {

namespace {

constexpr size_t kMaxQueuedLines = 1000;

std::atomic<int> g_level{static_cast<int>(LogLevel::warning)};
std::mutex g_mutex;
std::deque<std::string> g_lines;
uint64_t g_dropped = 0;

const char* level_name(LogLevel level) {
    switch (level) {
        case LogLevel::error: return "error";
        case LogLevel::warning: return "warning";
        case LogLevel::info: return "info";
        case LogLevel::debug: return "debug";
    }
    return "warning";
}

}  // namespace

bool parse_log_level(std::string_view name, LogLevel& out) noexcept {
    for (LogLevel level : {LogLevel::error, LogLevel::warning, LogLevel::info, LogLevel::debug}) {
        if (name == level_name(level)) {
            out = level;
            return true;
        }
    }
    return false;
}

void set_log_level(LogLevel level) noexcept {
    g_level.store(static_cast<int>(level));
}

void log_event(LogLevel level, std::string_view event, std::string_view correlation_id,
               ErrorClass error_class, std::string_view detail) {
    if (static_cast<int>(level) > g_level.load()) return;
    std::string line = "{\"ts\":" + std::to_string(std::time(nullptr)) + ",\"level\":\"" + level_name(level) +
                       "\",\"event\":";
    append_json_string(line, event);
    if (!correlation_id.empty()) {
        line += ",\"correlation_id\":";
        append_json_string(line, correlation_id);
    }
    if (error_class != ErrorClass::none) {
        line += ",\"error_class\":\"";
        line += error_class_name(error_class);
        line += '"';
    }
    if (!detail.empty()) {
        line += ",\"detail\":";
        append_json_string(line, detail.substr(0, 300));
    }
    line += '}';
    std::lock_guard lock(g_mutex);
    if (g_lines.size() >= kMaxQueuedLines) {
        g_lines.pop_front();
        ++g_dropped;
    }
    g_lines.push_back(std::move(line));
}

void drain_log_lines(const std::function<void(const std::string& line)>& sink) {
    std::deque<std::string> lines;
    uint64_t dropped;
    {
        std::lock_guard lock(g_mutex);
        if (g_lines.empty() && g_dropped == 0) return;
        lines.swap(g_lines);
        dropped = g_dropped;
        g_dropped = 0;
    }
    if (dropped) {
        sink("{\"ts\":" + std::to_string(std::time(nullptr)) +
             ",\"level\":\"warning\",\"event\":\"log_lines_dropped\",\"detail\":\"" + std::to_string(dropped) + "\"}");
    }
    for (const std::string& line : lines) sink(line);
}

}  // namespace vault_metadata
