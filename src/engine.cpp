#include "engine.h"

#include <curl/curl.h>
#include <dlfcn.h>
#include <msgpack.h>
#include <pthread.h>
#include <signal.h>
#include <simdjson.h>
#include <sqlite3.h>
#include <unistd.h>
#include <uv.h>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "cache_store.h"
#include "http_client.h"
#include "log.h"
#include "quota_ledger.h"
#include "retry_policy.h"
#include "youtube_api.h"

namespace vault_metadata {

namespace {

constexpr size_t kChunkSize = 50;
// A cache or ledger that failed to open is retried this often, so a fixed permission
// or a freed disk heals without a restart.
constexpr int64_t kReopenBackoffSeconds = 5;

int64_t unix_now() {
    return static_cast<int64_t>(std::time(nullptr));
}

std::string path_escape_ids(const std::vector<std::string>& ids) {
    // Ids are [A-Za-z0-9_-]: nothing to escape, only commas to encode.
    std::string joined;
    joined.reserve(ids.size() * 14);
    for (size_t i = 0; i < ids.size(); ++i) {
        if (i) joined += "%2C";
        joined += ids[i];
    }
    return joined;
}

std::string url_encode(const std::string& value) {
    static const char hex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : value) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

// Where and how one job's chunks go upstream; a snapshot of the settings of the call.
struct UpstreamTarget {
    std::string api_base;
    std::string api_key;
    int64_t upstream_timeout_ms = 10000;
    int64_t quota_daily_units = 10000;
};

// One PHP call's request to the loop thread. The PHP thread waits on it (or not);
// the loop thread settles each id once. Shared so that either side may leave first.
struct FetchJob {
    std::vector<std::string> ids;
    UpstreamTarget target;
    std::shared_ptr<CacheStore> store;
    std::shared_ptr<QuotaLedger> ledger;

    std::mutex mutex;
    std::condition_variable settled_cv;
    size_t unsettled = 0;
    std::unordered_map<std::string, VideoMeta> fetched;
    std::unordered_set<std::string> omitted;
};

}  // namespace

// --- the loop thread -------------------------------------------------------------------

class ProcessEngine final : public Engine {
public:
    ProcessEngine() : pid_(getpid()) {}
    ~ProcessEngine() override;

    BatchAnswer fetch_batch(const std::vector<std::string>& ids, const FetchOptions& options,
                            const EngineSettings& settings) override;
    QuotaView quota(const EngineSettings& settings) override;
    bool loop_thread_alive() const noexcept override { return loop_alive_.load(); }

    bool stop(std::chrono::milliseconds bound) noexcept;
    pid_t pid() const noexcept { return pid_; }

private:
    struct Round;
    struct Chunk {
        Round* round;
        std::vector<std::string> ids;
        int attempts = 0;
        int64_t deadline_ms = 0;  // uv_now() past which no retry starts
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
        int timers_closing = 0;
    };

    bool ensure_loop_thread();
    void run_loop();
    static void on_wakeup(uv_async_t* async);
    void take_jobs();
    void dispatch(const std::shared_ptr<FetchJob>& job);
    void send_chunk(Chunk* chunk);
    void on_chunk_answer(Chunk* chunk, HttpResult&& result);
    void finish_chunk(Chunk* chunk);
    void finish_round(Round* round);
    static void on_retry_timer(uv_timer_t* timer);

    std::shared_ptr<CacheStore> store_for(const EngineSettings& settings);
    std::shared_ptr<QuotaLedger> ledger_for(const EngineSettings& settings);

    const pid_t pid_;

    // Shared with the PHP thread, under mutex_.
    std::mutex mutex_;
    std::condition_variable stopped_cv_;
    std::deque<std::shared_ptr<FetchJob>> queue_;
    bool stopping_ = false;
    bool loop_exited_ = false;
    std::atomic<bool> loop_alive_{false};
    std::thread thread_;
    uv_loop_t loop_{};
    uv_async_t wakeup_{};
    bool loop_ready_ = false;

    // PHP-thread state: the cache and ledger of the current settings.
    std::shared_ptr<CacheStore> store_;
    CacheOptions store_options_;
    int64_t store_retry_at_ = 0;
    bool warned_no_key_ = false;
    std::shared_ptr<QuotaLedger> ledger_;
    std::string ledger_path_;
    int64_t ledger_retry_at_ = 0;

    // Loop-thread state.
    std::unique_ptr<HttpClient> http_;
    std::unordered_map<std::string, std::vector<std::shared_ptr<FetchJob>>> in_flight_;
    std::unordered_set<Round*> rounds_;
    std::mt19937_64 jitter_{std::random_device{}()};
};

ProcessEngine::~ProcessEngine() = default;

bool ProcessEngine::ensure_loop_thread() {
    std::lock_guard lock(mutex_);
    if (loop_ready_) return !stopping_;
    if (stopping_) return false;
    if (uv_loop_init(&loop_) != 0) return false;
    loop_.data = this;
    uv_async_init(&loop_, &wakeup_, &ProcessEngine::on_wakeup);
    wakeup_.data = this;

    // The thread inherits this mask: PHP's signals (SIGPROF drives max_execution_time)
    // must always be delivered to the PHP thread, never to ours.
    sigset_t blocked, previous;
    sigemptyset(&blocked);
    for (int sig : {SIGPROF, SIGALRM, SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGCHLD, SIGPIPE}) {
        sigaddset(&blocked, sig);
    }
    pthread_sigmask(SIG_BLOCK, &blocked, &previous);
    try {
        thread_ = std::thread([this] { run_loop(); });
    } catch (...) {
        pthread_sigmask(SIG_SETMASK, &previous, nullptr);
        uv_close(reinterpret_cast<uv_handle_t*>(&wakeup_), nullptr);
        uv_run(&loop_, UV_RUN_NOWAIT);
        uv_loop_close(&loop_);
        log_event(LogLevel::error, "loop_thread_start_failed", "", ErrorClass::none, "");
        return false;
    }
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    loop_ready_ = true;
    loop_alive_ = true;
    return true;
}

void ProcessEngine::run_loop() {
    http_ = std::make_unique<HttpClient>(&loop_);
    uv_run(&loop_, UV_RUN_DEFAULT);
    // uv_stop() came from on_wakeup after stopping_: close what is left, then drain.
    http_->close();
    for (Round* round : rounds_) {
        for (auto& chunk : round->chunks) {
            if (chunk->timer_open) {
                chunk->timer_open = false;
                uv_close(reinterpret_cast<uv_handle_t*>(&chunk->retry_timer), nullptr);
            }
        }
    }
    uv_close(reinterpret_cast<uv_handle_t*>(&wakeup_), nullptr);
    uv_run(&loop_, UV_RUN_DEFAULT);
    uv_loop_close(&loop_);
    http_.reset();
    for (Round* round : rounds_) delete round;
    rounds_.clear();
    in_flight_.clear();
    loop_alive_ = false;
    std::lock_guard lock(mutex_);
    loop_exited_ = true;
    stopped_cv_.notify_all();
}

void ProcessEngine::on_wakeup(uv_async_t* async) {
    auto* self = static_cast<ProcessEngine*>(async->data);
    bool stopping;
    {
        std::lock_guard lock(self->mutex_);
        stopping = self->stopping_;
    }
    if (stopping) {
        uv_stop(&self->loop_);
        return;
    }
    self->take_jobs();
}

void ProcessEngine::take_jobs() {
    std::deque<std::shared_ptr<FetchJob>> jobs;
    {
        std::lock_guard lock(mutex_);
        jobs.swap(queue_);
    }
    for (auto& job : jobs) dispatch(job);
}

void ProcessEngine::dispatch(const std::shared_ptr<FetchJob>& job) {
    // Ids already on their way upstream for another call are not sent again.
    std::vector<std::string> fresh_ids;
    for (const std::string& id : job->ids) {
        auto [it, inserted] = in_flight_.try_emplace(id);
        it->second.push_back(job);
        if (inserted) fresh_ids.push_back(id);
    }
    if (fresh_ids.empty()) return;

    auto* round = new Round{job->target, job->store, job->ledger, {}, 0, {}, {}};
    rounds_.insert(round);
    for (size_t first = 0; first < fresh_ids.size(); first += kChunkSize) {
        auto chunk = std::make_unique<Chunk>();
        chunk->round = round;
        size_t last = std::min(first + kChunkSize, fresh_ids.size());
        chunk->ids.assign(fresh_ids.begin() + static_cast<ptrdiff_t>(first),
                          fresh_ids.begin() + static_cast<ptrdiff_t>(last));
        chunk->deadline_ms = static_cast<int64_t>(uv_now(&loop_)) + job->target.upstream_timeout_ms;
        round->chunks.push_back(std::move(chunk));
    }
    round->pending = round->chunks.size();

    // The quota is reserved for the whole round before any call goes out.
    const int64_t wanted = static_cast<int64_t>(round->chunks.size());
    int64_t granted = round->ledger ? round->ledger->reserve(wanted, round->target.quota_daily_units, unix_now()) : -1;
    if (granted < 0) {
        log_event(LogLevel::error, "quota_ledger_unavailable", "", ErrorClass::none, "no upstream call without a ledger");
        granted = 0;
    } else if (granted < wanted) {
        log_event(LogLevel::warning, "quota_short", "", ErrorClass::quota,
                  std::to_string(wanted - granted) + " chunk(s) not sent");
    }
    // Copy the pointers first: finishing the last chunk deletes the round.
    std::vector<Chunk*> chunks;
    for (auto& c : round->chunks) chunks.push_back(c.get());
    for (size_t i = 0; i < chunks.size(); ++i) {
        if (static_cast<int64_t>(i) < granted) {
            send_chunk(chunks[i]);
        } else {
            finish_chunk(chunks[i]);
        }
    }
}

void ProcessEngine::send_chunk(Chunk* chunk) {
    const UpstreamTarget& target = chunk->round->target;
    std::string url = target.api_base + "/videos?part=snippet%2CcontentDetails%2Cstatistics%2Cstatus&id=" +
                      path_escape_ids(chunk->ids);
    if (!target.api_key.empty()) url += "&key=" + url_encode(target.api_key);
    ++chunk->attempts;
    int64_t remaining = chunk->deadline_ms - static_cast<int64_t>(uv_now(&loop_));
    http_->get(url, std::max<int64_t>(remaining, 1),
               [this, chunk](HttpResult&& result) { on_chunk_answer(chunk, std::move(result)); });
}

void ProcessEngine::on_chunk_answer(Chunk* chunk, HttpResult&& result) {
    Round* round = chunk->round;
    ErrorClass error_class;
    std::string reason;
    if (result.status == 0) {
        error_class = result.transport_error;
        reason = result.transport_message;
    } else {
        UpstreamError classified = classify_http_response(result.status, result.body);
        error_class = classified.error_class;
        reason = classified.reason;
    }

    if (error_class == ErrorClass::none) {
        std::vector<VideoMeta> items;
        std::string parse_error;
        if (parse_videos_list(result.body, unix_now(), items, &parse_error)) {
            std::unordered_set<std::string> asked(chunk->ids.begin(), chunk->ids.end());
            std::unordered_set<std::string> returned;
            for (VideoMeta& item : items) {
                // Only what was asked: an answer never writes rows for ids nobody requested.
                if (!asked.count(item.video_id) || !returned.insert(item.video_id).second) continue;
                round->items.push_back(std::move(item));
            }
            for (const std::string& id : chunk->ids) {
                if (!returned.count(id)) round->omitted.push_back(id);
            }
            finish_chunk(chunk);
            return;
        }
        error_class = ErrorClass::malformed;
        reason = parse_error;
    }

    if (error_class == ErrorClass::quota && round->ledger) round->ledger->mark_exhausted(unix_now());

    std::optional<int64_t> retry_after;
    if (!result.retry_after.empty()) retry_after = parse_retry_after(result.retry_after, unix_now());
    int64_t remaining = chunk->deadline_ms - static_cast<int64_t>(uv_now(&loop_));
    double draw = std::uniform_real_distribution<double>(0.0, 1.0)(jitter_);
    std::optional<int64_t> delay =
        next_retry_delay_ms(RetryPolicy{}, error_class, chunk->attempts, retry_after, remaining, draw);
    log_event(delay ? LogLevel::info : LogLevel::warning, delay ? "upstream_retry" : "upstream_failed", "",
              error_class, reason);
    if (delay) {
        if (!chunk->timer_open) {
            uv_timer_init(&loop_, &chunk->retry_timer);
            chunk->retry_timer.data = chunk;
            chunk->timer_open = true;
        }
        uv_timer_start(&chunk->retry_timer, &ProcessEngine::on_retry_timer, static_cast<uint64_t>(*delay), 0);
        return;
    }
    finish_chunk(chunk);
}

void ProcessEngine::on_retry_timer(uv_timer_t* timer) {
    auto* chunk = static_cast<Chunk*>(timer->data);
    auto* self = static_cast<ProcessEngine*>(timer->loop->data);
    Round* round = chunk->round;
    // Every attempt costs a unit, retries included.
    int64_t granted = round->ledger ? round->ledger->reserve(1, round->target.quota_daily_units, unix_now()) : 0;
    if (granted == 1) {
        self->send_chunk(chunk);
    } else {
        self->finish_chunk(chunk);
    }
}

void ProcessEngine::finish_chunk(Chunk* chunk) {
    Round* round = chunk->round;
    if (--round->pending == 0) finish_round(round);
}

void ProcessEngine::finish_round(Round* round) {
    if (round->store) {
        std::string error;
        auto conn = round->store->acquire(&error);
        if (!conn || !conn->write_fetch_results(round->items, round->omitted, unix_now(), &error)) {
            // The answer still reaches the waiting callers; the next call fetches again.
            log_event(LogLevel::error, "cache_write_failed", "", ErrorClass::none, error);
        }
    }

    std::unordered_map<std::string, const VideoMeta*> by_id;
    for (const VideoMeta& item : round->items) by_id.emplace(item.video_id, &item);
    std::unordered_set<std::string> omitted(round->omitted.begin(), round->omitted.end());

    for (auto& chunk : round->chunks) {
        for (const std::string& id : chunk->ids) {
            auto waiters = in_flight_.find(id);
            if (waiters == in_flight_.end()) continue;
            auto item = by_id.find(id);
            for (auto& job : waiters->second) {
                std::lock_guard lock(job->mutex);
                if (item != by_id.end()) {
                    job->fetched.emplace(id, *item->second);
                } else if (omitted.count(id)) {
                    job->omitted.insert(id);
                }
                if (--job->unsettled == 0) job->settled_cv.notify_all();
            }
            in_flight_.erase(waiters);
        }
    }

    // Retry timers close asynchronously; the round goes when the last one has closed.
    for (auto& chunk : round->chunks) {
        if (!chunk->timer_open) continue;
        chunk->timer_open = false;
        ++round->timers_closing;
        uv_close(reinterpret_cast<uv_handle_t*>(&chunk->retry_timer), [](uv_handle_t* handle) {
            Round* r = static_cast<Chunk*>(handle->data)->round;
            if (--r->timers_closing == 0) {
                static_cast<ProcessEngine*>(handle->loop->data)->rounds_.erase(r);
                delete r;
            }
        });
    }
    if (round->timers_closing == 0) {
        rounds_.erase(round);
        delete round;
    }
}

// --- the PHP thread --------------------------------------------------------------------

std::shared_ptr<CacheStore> ProcessEngine::store_for(const EngineSettings& settings) {
    CacheOptions wanted{settings.db_path, static_cast<int>(settings.pool_size), settings.mmap_size};
    const bool same = store_options_.path == wanted.path && store_options_.pool_size == wanted.pool_size &&
                      store_options_.mmap_size == wanted.mmap_size;
    const int64_t now = unix_now();
    if (same && (store_ || now < store_retry_at_)) return store_;
    std::string error;
    store_options_ = wanted;
    store_ = CacheStore::open(wanted, &error);
    if (!store_) {
        store_retry_at_ = now + kReopenBackoffSeconds;
        log_event(LogLevel::error, "cache_unavailable", "", ErrorClass::none, error);
    } else if (store_->was_rebuilt()) {
        log_event(LogLevel::warning, "cache_rebuilt", "", ErrorClass::none, "damaged cache moved aside");
    }
    return store_;
}

std::shared_ptr<QuotaLedger> ProcessEngine::ledger_for(const EngineSettings& settings) {
    const int64_t now = unix_now();
    if (ledger_ && ledger_path_ == settings.quota_path) return ledger_;
    if (!ledger_ && ledger_path_ == settings.quota_path && now < ledger_retry_at_) return nullptr;
    std::string error;
    ledger_path_ = settings.quota_path;
    ledger_ = QuotaLedger::open(settings.quota_path, &error);
    if (!ledger_) {
        ledger_retry_at_ = now + kReopenBackoffSeconds;
        log_event(LogLevel::error, "quota_ledger_unavailable", "", ErrorClass::none, error);
    }
    return ledger_;
}

BatchAnswer ProcessEngine::fetch_batch(const std::vector<std::string>& ids, const FetchOptions& options,
                                       const EngineSettings& settings) {
    BatchAnswer answer;
    const int64_t now = unix_now();
    answer.now = now;
    ensure_loop_thread();

    std::shared_ptr<CacheStore> store = store_for(settings);
    std::vector<std::optional<VideoMeta>> rows(ids.size());
    std::vector<char> known_absent(ids.size(), 0);
    std::vector<size_t> needed;
    {
        std::optional<CacheStore::Lease> conn;
        if (store) {
            std::string error;
            conn.emplace(store->acquire(&error));
            if (!*conn) {
                log_event(LogLevel::error, "cache_unavailable", "", ErrorClass::none, error);
                conn.reset();
            }
        }
        for (size_t i = 0; i < ids.size(); ++i) {
            bool read_error = false;
            if (conn) rows[i] = (*conn)->find_video(ids[i], &read_error);
            if (rows[i] && now - rows[i]->fetched_at < options.max_age) continue;
            if (!rows[i] && conn) {
                std::optional<int64_t> checked = (*conn)->negative_checked_at(ids[i], &read_error);
                if (checked && now - *checked < settings.negative_ttl) {
                    known_absent[i] = 1;
                    continue;
                }
            }
            needed.push_back(i);
        }
    }

    std::shared_ptr<FetchJob> job;
    const bool may_call = settings.enabled && !(settings.api_key.empty() && settings.api_base == kDefaultApiBase);
    if (!needed.empty() && may_call) {
        job = std::make_shared<FetchJob>();
        for (size_t i : needed) job->ids.push_back(ids[i]);
        job->unsettled = job->ids.size();
        job->target = UpstreamTarget{settings.api_base, settings.api_key, settings.upstream_timeout_ms,
                                     settings.quota_daily_units};
        job->store = store;
        job->ledger = ledger_for(settings);
        bool queued = false;
        if (ensure_loop_thread()) {
            std::lock_guard lock(mutex_);
            if (!stopping_) {
                queue_.push_back(job);
                uv_async_send(&wakeup_);
                queued = true;
            }
        }
        if (queued && options.timeout_ms > 0) {
            std::unique_lock lock(job->mutex);
            job->settled_cv.wait_for(lock, std::chrono::milliseconds(options.timeout_ms),
                                     [&] { return job->unsettled == 0; });
        }
    } else if (!needed.empty() && settings.enabled && !warned_no_key_) {
        warned_no_key_ = true;
        log_event(LogLevel::warning, "api_key_missing", "", ErrorClass::forbidden,
                  "set vault_metadata.api_key or VAULT_YOUTUBE_API_KEY");
    }

    answer.items.reserve(ids.size());
    std::unique_lock<std::mutex> job_lock;
    if (job) job_lock = std::unique_lock(job->mutex);
    for (size_t i = 0; i < ids.size(); ++i) {
        if (known_absent[i]) {
            answer.missing.push_back(ids[i]);
            continue;
        }
        if (rows[i] && now - rows[i]->fetched_at < options.max_age) {
            answer.items.push_back(ServedItem{std::move(*rows[i]), Served::fresh});
            continue;
        }
        if (job) {
            auto fetched = job->fetched.find(ids[i]);
            if (fetched != job->fetched.end()) {
                answer.items.push_back(ServedItem{fetched->second, Served::refreshed});
                continue;
            }
            if (job->omitted.count(ids[i])) {
                answer.missing.push_back(ids[i]);
                continue;
            }
        }
        if (rows[i] && options.allow_stale) {
            answer.items.push_back(ServedItem{std::move(*rows[i]), Served::stale});
        } else {
            answer.missing.push_back(ids[i]);
        }
    }
    return answer;
}

QuotaView ProcessEngine::quota(const EngineSettings& settings) {
    QuotaView view;
    std::shared_ptr<QuotaLedger> ledger = ledger_for(settings);
    if (!ledger) {
        view.limit = settings.quota_daily_units;
        return view;
    }
    QuotaStatus status = ledger->status(settings.quota_daily_units, unix_now());
    view.limit = status.limit;
    view.used = status.used;
    view.remaining = status.remaining;
    view.resets_at = status.resets_at;
    view.exhausted = status.exhausted;
    view.ok = status.ok;
    return view;
}

bool ProcessEngine::stop(std::chrono::milliseconds bound) noexcept {
    std::unique_lock lock(mutex_);
    if (!loop_ready_) return true;
    stopping_ = true;
    uv_async_send(&wakeup_);
    bool exited = stopped_cv_.wait_for(lock, bound, [&] { return loop_exited_; });
    lock.unlock();
    if (exited) {
        thread_.join();
        return true;
    }
    // The thread is stuck (a SQLite busy wait, a resolver): leave it running, and keep
    // this shared object mapped so that its code is still there when it wakes.
    thread_.detach();
    Dl_info info;
    if (dladdr(reinterpret_cast<void*>(&library_versions), &info) && info.dli_fname) {
        dlopen(info.dli_fname, RTLD_NOW | RTLD_NODELETE | RTLD_NOLOAD);
    }
    return false;
}

// --- process life ----------------------------------------------------------------------

namespace {

ProcessEngine* g_engine = nullptr;

void forget_inherited_engine() {
    // In the child of fork(): the parent's thread does not exist here, its mutexes may be
    // held forever and its SQLite connections belong to the parent. Leak it all.
    g_engine = nullptr;
}

}  // namespace

void Engine::global_init() noexcept {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    pthread_atfork(nullptr, nullptr, &forget_inherited_engine);
}

void Engine::global_cleanup() noexcept {
    if (g_engine && g_engine->loop_thread_alive()) return;
    curl_global_cleanup();
}

Engine& Engine::for_this_process() {
    if (g_engine && g_engine->pid() != getpid()) g_engine = nullptr;
    if (!g_engine) g_engine = new ProcessEngine();
    return *g_engine;
}

bool Engine::shutdown_this_process(std::chrono::milliseconds bound) noexcept {
    if (!g_engine || g_engine->pid() != getpid()) return true;
    bool stopped = g_engine->stop(bound);
    if (stopped) {
        delete g_engine;
        g_engine = nullptr;
    }
    return stopped;
}

LibraryVersions library_versions() {
    LibraryVersions v;
    v.extension = VAULT_METADATA_VERSION;
    v.libuv = uv_version_string();
    v.libcurl = curl_version_info(CURLVERSION_NOW)->version;
    v.sqlite = sqlite3_libversion();
    v.msgpack = msgpack_version();
    v.simdjson = std::to_string(simdjson::SIMDJSON_VERSION_MAJOR) + "." +
                 std::to_string(simdjson::SIMDJSON_VERSION_MINOR) + "." +
                 std::to_string(simdjson::SIMDJSON_VERSION_REVISION);
    return v;
}

std::string effective_api_key(const std::string& configured) {
    if (!configured.empty()) return configured;
    const char* env = std::getenv("VAULT_YOUTUBE_API_KEY");
    return env ? env : "";
}

}  // namespace vault_metadata
