// The engine's insides, shared by engine.cpp (the PHP thread's side and process life)
// and engine_loop.cpp (the loop thread's side). Not part of the core's interface.
#pragma once

#include <uv.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <list>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "cache_store.h"
#include "engine.h"
#include "http_client.h"
#include "quota_ledger.h"
#include "telemetry.h"

namespace vault_metadata {

int64_t unix_now();
int64_t unix_now_ms();

// Where and how one job's chunks go upstream; a snapshot of the settings of the call.
struct UpstreamTarget {
    std::string api_base;
    std::string api_key;
    int64_t upstream_timeout_ms = 10000;
    int64_t quota_daily_units = 10000;
};

// One request to the loop thread: a PHP call's stale and missing ids, a prefetch, or a
// background refresh round. The PHP thread may wait on it (or not); the loop thread
// settles each id once. Shared so that either side may leave first.
struct FetchJob {
    std::vector<std::string> ids;
    UpstreamTarget target;
    std::shared_ptr<CacheStore> store;
    std::shared_ptr<QuotaLedger> ledger;
    int64_t max_units = -1;          // -1: as many chunks as the ids need
    bool wait_for_others = true;     // false: ids another process is fetching are skipped
    std::string correlation_id;      // of the PHP call, for the loop thread's log lines
    std::shared_ptr<Telemetry> telemetry;
    int64_t wait_ms = 0;             // how long the caller waits; retries start only within it
    int64_t read_at_ms = 0;          // Unix ms when the caller read the cache (see CacheConnection::claim)

    std::mutex mutex;
    std::condition_variable settled_cv;
    size_t unsettled = 0;
    std::unordered_map<std::string, VideoMeta> fetched;
    std::unordered_set<std::string> omitted;
    ErrorClass upstream_error = ErrorClass::none;  // why an id could not be fetched
};

// What the loop thread's timers work with, refreshed from every PHP call.
struct LoopContext {
    EngineSettings settings;
    std::shared_ptr<CacheStore> store;
    std::shared_ptr<QuotaLedger> ledger;
    std::shared_ptr<Telemetry> telemetry;
};

class ProcessEngine final : public Engine {
public:
    ProcessEngine();
    ~ProcessEngine() override = default;

    BatchAnswer fetch_batch(const std::vector<std::string>& ids, const FetchOptions& options,
                            const EngineSettings& settings, const std::string& correlation_id) override;
    int64_t prefetch(const std::vector<std::string>& ids, const EngineSettings& settings) override;
    QuotaView quota(const EngineSettings& settings) override;
    void note_requested(const std::vector<std::string>& ids) override;
    bool loop_thread_alive() const noexcept override;
    HealthView health(const EngineSettings& settings) override;
    Telemetry* telemetry(const EngineSettings& settings) override;
    void indexnow_submit(std::vector<std::string> urls, const EngineSettings& settings) override;

    bool stop(std::chrono::milliseconds bound) noexcept;
    // In the parent, just before fork(), with the loop thread held off by the fork guard.
    void close_connections_for_fork() noexcept;
    pid_t pid() const noexcept { return pid_; }

private:
    // --- loop thread (engine_loop.cpp) ---
    struct Round;
    struct Chunk {
        Round* round;
        std::vector<std::string> ids;
        int attempts = 0;
        int64_t deadline_ms = 0;  // uv_now() when the upstream timeout ends
        int64_t retry_until_ms = 0;  // no retry starts after this: nobody would be waiting
        uv_timer_t retry_timer;
        bool timer_open = false;
    };
    // The chunks made from one job at one moment: written back in one transaction.
    struct Round {
        UpstreamTarget target;
        std::shared_ptr<CacheStore> store;
        std::shared_ptr<QuotaLedger> ledger;
        std::vector<std::unique_ptr<Chunk>> chunks;
        size_t pending = 0;
        std::vector<VideoMeta> items;
        std::vector<std::string> omitted;
        std::vector<std::string> claimed;  // released when the round is written
        int timers_closing = 0;
        std::string correlation_id;
        ErrorClass error = ErrorClass::none;  // the last failure of any chunk
        std::shared_ptr<Telemetry> telemetry;
    };
    // An id another process is fetching: polled in the cache until it lands.
    struct ForeignWait {
        ForeignClaim claim;
        std::shared_ptr<CacheStore> store;
        int64_t deadline_ms;
    };

    void run_loop();
    static void on_wakeup(uv_async_t* async);
    static void on_retry_timer(uv_timer_t* timer);
    static void on_poll_timer(uv_timer_t* timer);
    static void on_housekeeping_timer(uv_timer_t* timer);
    void take_jobs();
    void dispatch(const std::shared_ptr<FetchJob>& job);
    void send_chunk(Chunk* chunk);
    void on_chunk_answer(Chunk* chunk, HttpResult&& result);
    void finish_chunk(Chunk* chunk);
    void finish_round(Round* round);
    void fetch_channel_handles(Round* round);
    void settle(const std::string& id, const VideoMeta* item, bool omitted, ErrorClass error);
    void poll_foreign_claims();
    void housekeeping();
    void flush_requests(const LoopContext& context);
    void refresh_round(const LoopContext& context);
    void push_metrics(const LoopContext& context, bool lease_holder);
    void post_indexnow(const LoopContext& context);

    // --- PHP thread (engine.cpp) ---
    bool ensure_loop_thread();
    void submit(const std::shared_ptr<FetchJob>& job);
    std::shared_ptr<CacheStore> store_for(const EngineSettings& settings);
    std::shared_ptr<QuotaLedger> ledger_for(const EngineSettings& settings);
    std::shared_ptr<FetchJob> make_job(const EngineSettings& settings, const std::shared_ptr<CacheStore>& store);
    std::shared_ptr<Telemetry> telemetry_for(const EngineSettings& settings);
    void share_context(const EngineSettings& settings, const std::shared_ptr<CacheStore>& store);

    const pid_t pid_;
    const std::string holder_;  // "host:pid", the name of this process in claims and leases

    // Shared between the threads, under mutex_.
    std::mutex mutex_;
    std::condition_variable stopped_cv_;
    std::deque<std::shared_ptr<FetchJob>> queue_;
    std::unordered_set<std::string> requested_;  // ids to note for the background refresh
    std::vector<std::string> indexnow_queue_;     // URLs waiting for the loop thread
    LoopContext context_;
    bool has_context_ = false;
    bool stopping_ = false;
    bool loop_exited_ = false;
    bool loop_ready_ = false;
    std::atomic<bool> loop_alive_{false};
    // Steady-clock ms of the loop thread's last housekeeping tick: a thread that died or hangs
    // stops ticking, which loop_alive_ alone would not show.
    std::atomic<int64_t> loop_heartbeat_ms_{0};
    std::atomic<pid_t> loop_tid_{0};  // the kernel's id of the loop thread, to ask whether it still exists
    std::thread thread_;
    uv_loop_t loop_{};
    uv_async_t wakeup_{};

    // PHP thread only.
    std::shared_ptr<CacheStore> store_;
    CacheOptions store_options_;
    int64_t store_retry_at_ = 0;
    std::shared_ptr<QuotaLedger> ledger_;
    std::string ledger_path_;
    int64_t ledger_retry_at_ = 0;
    bool warned_no_key_ = false;
    bool warned_backend_ = false;
    std::shared_ptr<Telemetry> telemetry_;
    std::string telemetry_path_;

    // Loop thread only.
    std::unique_ptr<HttpClient> http_;
    std::unordered_map<std::string, std::vector<std::shared_ptr<FetchJob>>> in_flight_;
    std::unordered_set<Round*> rounds_;
    std::vector<ForeignWait> foreign_waits_;
    uv_timer_t poll_timer_{};
    uv_timer_t housekeeping_timer_{};
    int64_t last_refresh_ms_ = 0;
    int64_t last_requests_flush_ms_ = 0;
    // VictoriaMetrics pushes: the lease holder pushes completed minutes, with backoff.
    int64_t metrics_next_push_ms_ = 0;
    int metrics_failures_ = 0;
    bool metrics_in_flight_ = false;
    // IndexNow batches of at most 10,000 URLs, retried with backoff.
    struct IndexNowBatch {
        std::vector<std::string> urls;
        int attempts = 0;
        int64_t next_attempt_ms = 0;
        bool in_flight = false;
    };
    std::list<IndexNowBatch> indexnow_batches_;  // a list: callbacks hold pointers to batches
    std::mt19937_64 jitter_{std::random_device{}()};
};

}  // namespace vault_metadata
