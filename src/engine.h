// The per-process engine: answers from the cache in the calling thread and hands
// stale and missing ids to one libuv loop thread that fetches them upstream.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "version.h"
#include "video_meta.h"

namespace vault_metadata {

inline constexpr const char* kDefaultApiBase = "https://www.googleapis.com/youtube/v3";

// What the engine needs from the configuration; read anew on every call so that a
// changed setting takes effect without a restart.
struct EngineSettings {
    bool enabled = true;
    std::string db_path;
    std::string quota_path;
    std::string api_key;
    std::string api_base = kDefaultApiBase;
    int64_t upstream_timeout_ms = 10000;
    int64_t negative_ttl = 3600;
    int64_t quota_daily_units = 10000;
    int64_t pool_size = 4;
    int64_t mmap_size = 0;
    int64_t max_age = 3600;            // the default freshness, used by the background refresh
    int64_t refresh_interval = 90;
    int64_t refresh_budget_units = 5;  // units one background refresh round may spend
    std::string quota_backend = "sqlite";
    std::string metrics_url;            // VictoriaMetrics import endpoint; empty = off
    int64_t metrics_flush_interval = 60;
    std::string indexnow_endpoint, indexnow_key, indexnow_key_location, indexnow_host;

    bool operator==(const EngineSettings&) const = default;
};

struct FetchOptions {
    int64_t max_age = 3600;
    int64_t timeout_ms = 2000;
    bool allow_stale = true;
};

enum class Served { fresh, refreshed, stale };

struct ServedItem {
    VideoMeta meta;
    Served how = Served::fresh;
};

struct BatchAnswer {
    std::vector<ServedItem> items;     // request order, only ids that have metadata
    std::vector<std::string> missing;  // request order
    int64_t now = 0;                   // the clock the freshness was judged by
    ErrorClass upstream_error = ErrorClass::none;  // why some ids could not be fetched, if any
};

struct QuotaView {
    int64_t limit = 0;
    int64_t used = 0;
    int64_t remaining = 0;
    int64_t resets_at = 0;
    bool exhausted = false;
    bool ok = false;
    std::string backend = "sqlite";
};

struct HealthView {
    bool ok = false;
    bool cache_reachable = false;
    std::string cache_error;
    int64_t pool_size = 0, pool_open = 0, pool_idle = 0;
    bool loop_thread_alive = false;
    int64_t last_success_at = 0, last_error_at = 0;  // Unix seconds, 0 = never
    ErrorClass last_error_class = ErrorClass::none;
    bool telemetry_shared = false;
};

class Telemetry;

class Engine {
public:
    // The engine of the calling process, created on first use. State inherited through
    // fork() from another process is abandoned: never joined, closed or used.
    static Engine& for_this_process();
    // Stops this process's engine within `bound`; a no-op when there is none or it
    // belongs to another process. Returns false when the loop thread did not stop in time.
    static bool shutdown_this_process(std::chrono::milliseconds bound) noexcept;
    // This process's id, kept current across fork() without a system call per use.
    static pid_t process_id() noexcept;
    // Process-wide set-up (libcurl, the fork handler): once, before any thread exists.
    static void global_init() noexcept;
    // The counterpart of global_init(), skipped while a loop thread may still run.
    static void global_cleanup() noexcept;

    virtual ~Engine() = default;

    // `ids` are distinct, valid video ids. Never throws for operational failures.
    // `correlation_id` labels the log lines of this call, in this thread and the loop's.
    virtual BatchAnswer fetch_batch(const std::vector<std::string>& ids, const FetchOptions& options,
                                    const EngineSettings& settings, const std::string& correlation_id = {}) = 0;
    // Hands the stale and missing ids to the loop thread without waiting; returns how many.
    virtual int64_t prefetch(const std::vector<std::string>& ids, const EngineSettings& settings) = 0;
    virtual QuotaView quota(const EngineSettings& settings) = 0;
    // Ids served from elsewhere (the glue's own cache) that will soon go stale: candidates
    // for the background refresh.
    virtual void note_requested(const std::vector<std::string>& ids) = 0;
    virtual bool loop_thread_alive() const noexcept = 0;
    virtual HealthView health(const EngineSettings& settings) = 0;
    // The host-wide telemetry file beside the cache (private memory when it cannot be mapped).
    virtual Telemetry* telemetry(const EngineSettings& settings) = 0;
    // Queues URLs (already checked) for the loop thread to post to IndexNow.
    virtual void indexnow_submit(std::vector<std::string> urls, const EngineSettings& settings) = 0;
};

// "libuv 1.44.2, libcurl 7.88.1, ..." pieces for phpinfo().
struct LibraryVersions {
    std::string extension, libuv, libcurl, sqlite, msgpack, simdjson;
};
LibraryVersions library_versions();

// The effective API key: the setting, else VAULT_YOUTUBE_API_KEY from the environment.
std::string effective_api_key(const std::string& configured);

}  // namespace vault_metadata
