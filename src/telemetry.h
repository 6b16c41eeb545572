// Host-wide telemetry without personal data: a ring of call events kept at most 60 s, and one-minute aggregates
// for the last 60 minutes, in one fixed-size file that every worker process of the host maps MAP_SHARED.
//
// Privacy by construction: an event holds counts, a latency, an error class, a pid and a 96-bit correlation id,
// which the file stores as 12 binary bytes. There is no free-text field anywhere in the file, so no IP, user
// agent, referer, URL or API key can end up in it, whatever a caller passes.
//
// File layout (one POD struct, sizeof fixed at compile time, about 4.1 MiB, sparse until written):
//   header     magic (written last), version, layout fingerprint, size, creation time, the lock, the sequence
//              number of the newest event, host-wide totals since creation, last upstream success / error
//   minutes    60 slots, slot = (minute / 60 000 ms) % 60, each tagged with its minute start; a slot whose tag
//              is not the minute being written is zeroed first (so a wall clock set back works too)
//   ring       65 536 event slots (about 1 000 calls/s host-wide for 60 s; beyond that older events are
//              overwritten sooner). An event is returned only while 0 <= now_ms - at_ms < 60 000.
//
// Locking: one pthread mutex in the file, PTHREAD_PROCESS_SHARED + PTHREAD_MUTEX_ROBUST. A process that dies
// holding it (SIGKILL) hands the next locker EOWNERDEAD, which calls pthread_mutex_consistent() and goes on;
// every write is ordered so that a half-written event or minute slot is invisible or harmless. Waits are
// bounded: pthread_mutex_clocklock on CLOCK_MONOTONIC read by a raw syscall (libfaketime cannot skew it);
// a writer gives up after 250 ms and drops its record (counted in dropped_records), a reader after 2 s.
// Opening: open(O_CREAT) + flock(LOCK_EX, bounded) + ftruncate + check; a file with a wrong size, magic,
// version or layout is re-initialised under the flock, the magic stored last; 20 processes may open at once.
//
// Fork: nothing to do. The mapping is inherited and shared, the robust mutex is keyed by thread id, and the
// object keeps no fd, thread or per-process cache; a child may use the parent's object or open its own.
// Thread-safe: every method may be called from any thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "video_meta.h"

namespace vault_metadata {

struct TelemetryArea;  // the mapped file, defined in telemetry.cpp

enum class CallKind : uint8_t { fetch_batch, fetch_batch_detailed, prefetch };
const char* call_kind_name(CallKind k) noexcept;  // "fetch_batch", "fetch_batch_detailed", "prefetch"

inline constexpr std::size_t kErrorClassCount = 9;  // ErrorClass::none .. ErrorClass::network

struct CallEvent {
    int64_t at_ms = 0;               // Unix ms (wall clock); 0 in record_call() means "now"
    char correlation_id[25] = {};    // 24 hex chars + NUL; anything else is stored as "no id" (read back as "")
    CallKind kind = CallKind::fetch_batch;
    uint32_t ids = 0, fresh = 0, stale = 0, refreshed = 0, missing = 0;
    uint32_t latency_us = 0;
    ErrorClass upstream_error = ErrorClass::none;  // the call's outcome; per-class counts come from record_upstream()
    int32_t pid = 0;                 // 0 in record_call() means getpid()
};

struct MinuteStats {
    int64_t minute_start = 0;  // Unix ms, a multiple of 60 000
    uint64_t calls = 0, ids = 0, fresh = 0, stale = 0, refreshed = 0, missing = 0;
    uint64_t upstream_calls = 0, quota_units = 0;
    std::array<uint64_t, kErrorClassCount> upstream_errors{};  // indexed by ErrorClass; [none] stays 0
    uint64_t latency_count = 0, latency_sum_us = 0;
    double p50_ms = 0, p95_ms = 0, p99_ms = 0;  // from the histogram; 0 when latency_count == 0
    double cache_hit_ratio() const noexcept { return ids ? static_cast<double>(fresh) / static_cast<double>(ids) : 0; }
};

class Telemetry {
public:
    // Maps the file at `path` (created 0660 when absent). When the file cannot be opened, locked or mapped, the
    // object works in this process only (private anonymous memory, shared() false) and `error`, when not null,
    // says why. An empty path asks for private memory. Null only when not even 4 MiB of private memory is left.
    static std::unique_ptr<Telemetry> open(const std::string& path, std::string* error);

    ~Telemetry();
    Telemetry(const Telemetry&) = delete;
    Telemetry& operator=(const Telemetry&) = delete;

    bool shared() const noexcept { return shared_; }
    bool initialised_file() const noexcept { return initialised_; }  // this open() (re)initialised the file
    const std::string& path() const noexcept { return path_; }
    static int64_t wall_clock_ms() noexcept;  // clock_gettime(CLOCK_REALTIME): libfaketime applies

    // One fetch call: appends the event to the ring and adds it to its minute and to the totals.
    // Returns false when the lock could not be taken within 250 ms (the record is dropped and counted).
    bool record_call(const CallEvent& e);
    // One upstream request: outcome none = success; `units` quota units spent (negative counts as 0).
    bool record_upstream(int64_t at_ms, ErrorClass outcome, int64_t units);

    // Events with 0 <= now_ms - at_ms < 60 000, newest first; only those with `correlation_id` when not empty
    // (an id that is not 24 hex chars matches nothing). At most `limit` events.
    std::vector<CallEvent> recent_events(int64_t now_ms, std::string_view correlation_id = {},
                                         std::size_t limit = SIZE_MAX);
    // `count` (clamped to 0..60) consecutive minutes ending with the minute of now_ms, newest first; a minute
    // without data is all zeros (with its minute_start).
    std::vector<MinuteStats> minutes(int64_t now_ms, int count);
    // The same `count` minutes merged into one (percentiles from the merged histogram); minute_start is the
    // oldest minute's. For vault_metadata_stats().
    MinuteStats window(int64_t now_ms, int count);

    // Prometheus text exposition 0.0.4: host-wide counters since the file was created (*_total), the latency
    // histogram (seconds, _bucket{le}/_sum/_count, a 1-2.5-5 subset of the internal buckets), a summary of
    // the last completed minute's latency (quantile 0.5/0.95/0.99), gauges. No timestamps.
    std::string prometheus_text(int64_t now_ms);
    // For VictoriaMetrics' /api/v1/import/prometheus: for every completed minute with data, minute_start >=
    // since_minute_ms, within the last 60, one sample per field of minutes() timestamped (ms) at minute_start:
    // vault_metadata_minute_{calls,ids,fresh,stale,refreshed,missing,upstream_calls,quota_units,latency_count}
    // and _upstream_errors{class="..."} (all 8 classes), plus _latency_p50_ms/_p95_ms/_p99_ms when
    // latency_count > 0 and _cache_hit_ratio when ids > 0. Oldest first. Add host labels with VM's extra_label.
    std::string prometheus_import_lines(int64_t now_ms, int64_t since_minute_ms);

    struct LastUpstream {
        int64_t success_at_ms = 0;  // 0: never
        int64_t error_at_ms = 0;    // 0: never
        ErrorClass error_class = ErrorClass::none;
    };
    LastUpstream last_upstream();  // host-wide

    // Diagnostics, host-wide: locks recovered from a dead owner; records dropped on a lock timeout.
    uint64_t lock_recoveries();
    uint64_t dropped_records();

    // Latency buckets (upper bounds in µs, le semantics; a last, overflow bucket follows): 1-1.2-1.5-2-2.5-3-4-
    // 5-6-8 per decade, 1 µs .. 30 s. Exposed for tests and for anyone who wants the resolution.
    static const std::vector<double>& latency_bucket_bounds_us();

private:
    Telemetry() = default;
    bool lock(int timeout_ms);
    void unlock();
    void init_area(bool process_shared);

    TelemetryArea* area_ = nullptr;
    std::size_t map_size_ = 0;
    std::string path_;
    bool shared_ = false;
    bool initialised_ = false;

    friend struct TelemetryTesting;
};

// For tests only: takes the lock and never releases it, so that a test can SIGKILL the holder.
struct TelemetryTesting {
    static bool lock_and_hold(Telemetry& t) { return t.lock(2000); }
};

}  // namespace vault_metadata
