#include "engine.h"

#include <curl/curl.h>
#include <dlfcn.h>
#include <msgpack.h>
#include <pthread.h>
#include <signal.h>
#include <simdjson.h>
#include <sqlite3.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include <cstdlib>
#include <ctime>

#include "correlation_id.h"
#include "engine_internal.h"
#include "fork_guard.h"
#include "sqlite_busy.h"
#include "log.h"
#include "pacific_time.h"

namespace vault_metadata {

namespace {

// A cache or ledger that failed to open is retried this often, so a fixed permission
// or a freed disk heals without a restart.
constexpr int64_t kReopenBackoffSeconds = 5;

std::string process_holder_name() {
    char host[256] = {};
    if (gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
    return std::string(host[0] ? host : "localhost") + ":" + std::to_string(getpid());
}

}  // namespace

int64_t unix_now() {
    return static_cast<int64_t>(std::time(nullptr));
}

int64_t unix_now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

ProcessEngine::ProcessEngine() : pid_(getpid()), holder_(process_holder_name()) {}

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
    loop_heartbeat_ms_ = static_cast<int64_t>(uv_hrtime() / 1000000);
    return true;
}

bool ProcessEngine::loop_thread_alive() const noexcept {
    if (!loop_alive_.load()) return false;
    // Signal 0 only asks whether the thread exists: a thread that ended without unwinding
    // (killed, or a crash in a library that took only it) never cleared loop_alive_.
    const pid_t tid = loop_tid_.load();
    if (tid != 0 && syscall(SYS_tgkill, getpid(), tid, 0) != 0 && errno == ESRCH) return false;
    // The housekeeping tick comes every second; five missed ones mean the thread is gone or stuck.
    const int64_t beat = loop_heartbeat_ms_.load();
    return beat == 0 || static_cast<int64_t>(uv_hrtime() / 1000000) - beat < 5000;
}

void ProcessEngine::submit(const std::shared_ptr<FetchJob>& job) {
    if (!ensure_loop_thread()) return;
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    queue_.push_back(job);
    uv_async_send(&wakeup_);
}

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
    if (settings.quota_backend != "sqlite" && !warned_backend_) {
        warned_backend_ = true;
        log_event(LogLevel::warning, "quota_backend_unavailable", "", ErrorClass::none,
                  "this build counts quota in the SQLite ledger only");
    }
    const int64_t now = unix_now();
    if (ledger_path_ == settings.quota_path && (ledger_ || now < ledger_retry_at_)) return ledger_;
    std::string error;
    ledger_path_ = settings.quota_path;
    ledger_ = QuotaLedger::open(settings.quota_path, &error);
    if (!ledger_) {
        ledger_retry_at_ = now + kReopenBackoffSeconds;
        log_event(LogLevel::error, "quota_ledger_unavailable", "", ErrorClass::none, error);
    }
    return ledger_;
}

std::shared_ptr<FetchJob> ProcessEngine::make_job(const EngineSettings& settings,
                                                  const std::shared_ptr<CacheStore>& store) {
    auto job = std::make_shared<FetchJob>();
    job->target = UpstreamTarget{settings.api_base, settings.api_key, settings.upstream_timeout_ms,
                                 settings.quota_daily_units};
    job->store = store;
    job->ledger = ledger_for(settings);
    job->telemetry = telemetry_for(settings);
    return job;
}

std::shared_ptr<Telemetry> ProcessEngine::telemetry_for(const EngineSettings& settings) {
    std::string path = settings.db_path + ".telemetry";
    if (telemetry_ && telemetry_path_ == path) return telemetry_;
    std::string error;
    telemetry_path_ = path;
    telemetry_ = Telemetry::open(path, &error);
    if (!telemetry_ || !telemetry_->shared()) {
        log_event(LogLevel::warning, "telemetry_not_shared", "", ErrorClass::none, error);
    }
    return telemetry_;
}

Telemetry* ProcessEngine::telemetry(const EngineSettings& settings) {
    return telemetry_for(settings).get();
}

HealthView ProcessEngine::health(const EngineSettings& settings) {
    HealthView view;
    std::shared_ptr<CacheStore> store = store_for(settings);
    if (!store) {
        view.cache_error = "the cache could not be opened";
    } else if (access(settings.db_path.c_str(), R_OK | W_OK) != 0) {
        view.cache_error = "the cache file is not writable";
    } else {
        std::string error;
        {
            auto conn = store->acquire(&error);
            if (!conn) {
                view.cache_error = error;
            } else if (conn->count_videos() < 0) {
                view.cache_error = "the cache cannot be read";
            } else {
                view.cache_reachable = true;
            }
        }
        view.pool_size = settings.pool_size;
        view.pool_open = store->open_connections();
        view.pool_idle = store->idle_connections();
    }
    ensure_loop_thread();
    view.loop_thread_alive = loop_thread_alive();
    if (std::shared_ptr<Telemetry> t = telemetry_for(settings)) {
        Telemetry::LastUpstream last = t->last_upstream();
        view.last_success_at = last.success_at_ms / 1000;
        view.last_error_at = last.error_at_ms / 1000;
        view.last_error_class = last.error_class;
        view.telemetry_shared = t->shared();
    }
    view.ok = view.cache_reachable && view.loop_thread_alive;
    return view;
}

void ProcessEngine::indexnow_submit(std::vector<std::string> urls, const EngineSettings& settings) {
    if (urls.empty()) return;
    share_context(settings, store_for(settings));
    if (!ensure_loop_thread()) return;
    std::lock_guard lock(mutex_);
    for (std::string& url : urls) indexnow_queue_.push_back(std::move(url));
    uv_async_send(&wakeup_);
}

void ProcessEngine::share_context(const EngineSettings& settings, const std::shared_ptr<CacheStore>& store) {
    std::shared_ptr<QuotaLedger> ledger = ledger_for(settings);
    std::shared_ptr<Telemetry> telemetry = telemetry_for(settings);
    std::lock_guard lock(mutex_);
    if (has_context_ && context_.store == store && context_.ledger == ledger && context_.telemetry == telemetry &&
        context_.settings == settings) {
        return;
    }
    context_.settings = settings;
    context_.store = store;
    context_.ledger = ledger;
    context_.telemetry = telemetry;
    has_context_ = true;
}

BatchAnswer ProcessEngine::fetch_batch(const std::vector<std::string>& ids, const FetchOptions& options,
                                       const EngineSettings& settings, const std::string& correlation_id) {
    BatchAnswer answer;
    const int64_t now = unix_now();
    const int64_t read_at_ms = unix_now_ms();
    answer.now = now;
    // Started on the first call, not at module start-up: the process may be about to fork.
    ensure_loop_thread();

    std::shared_ptr<CacheStore> store = store_for(settings);
    std::vector<std::optional<VideoMeta>> rows(ids.size());
    std::vector<char> known_absent(ids.size(), 0);
    std::vector<size_t> needed;
    std::vector<const std::string*> soon_stale;
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
        // Rows this close to going stale are worth a background refresh.
        const int64_t refresh_horizon = options.max_age - 2 * settings.refresh_interval;
        const bool in_transaction = conn && (*conn)->begin_read();
        for (size_t i = 0; i < ids.size(); ++i) {
            bool read_error = false;
            if (conn) rows[i] = (*conn)->find_video(ids[i], &read_error);
            if (rows[i] && now - rows[i]->fetched_at < options.max_age) {
                if (now - rows[i]->fetched_at >= refresh_horizon) soon_stale.push_back(&ids[i]);
                continue;
            }
            if (!rows[i] && conn) {
                std::optional<int64_t> checked = (*conn)->negative_checked_at(ids[i], &read_error);
                if (checked && now - *checked < settings.negative_ttl) {
                    known_absent[i] = 1;
                    continue;
                }
            }
            needed.push_back(i);
        }
        if (in_transaction) (*conn)->end_read();
    }
    share_context(settings, store);
    if (!soon_stale.empty()) {
        std::lock_guard lock(mutex_);
        for (const std::string* id : soon_stale) requested_.insert(*id);
    }

    std::shared_ptr<FetchJob> job;
    const bool may_call = settings.enabled && !(settings.api_key.empty() && settings.api_base == kDefaultApiBase);
    if (!needed.empty() && may_call) {
        job = make_job(settings, store);
        job->correlation_id = correlation_id;
        job->wait_ms = options.timeout_ms;
        job->read_at_ms = read_at_ms;
        for (size_t i : needed) job->ids.push_back(ids[i]);
        job->unsettled = job->ids.size();
        {
            // Refetched rows are requested rows too: keep them on the refresh list.
            std::lock_guard lock(mutex_);
            for (size_t i : needed) requested_.insert(ids[i]);
        }
        submit(job);
        if (options.timeout_ms > 0 && loop_thread_alive()) {
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
    if (job) {
        job_lock = std::unique_lock(job->mutex);
        // Ids still unsettled when the caller stopped waiting count as a timeout.
        answer.upstream_error = job->unsettled > 0 && job->upstream_error == ErrorClass::none
                                    ? ErrorClass::timeout
                                    : job->upstream_error;
    }
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
                // Settled ids are never touched again by the loop thread: take the row.
                answer.items.push_back(ServedItem{std::move(fetched->second), Served::refreshed});
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

int64_t ProcessEngine::prefetch(const std::vector<std::string>& ids, const EngineSettings& settings) {
    if (ids.empty() || !settings.enabled) return 0;
    if (settings.api_key.empty() && settings.api_base == kDefaultApiBase) return 0;
    const int64_t now = unix_now();
    std::shared_ptr<CacheStore> store = store_for(settings);
    auto job = make_job(settings, store);
    job->wait_for_others = false;
    job->read_at_ms = unix_now_ms();
    {
        std::optional<CacheStore::Lease> conn;
        if (store) conn.emplace(store->acquire());
        for (const std::string& id : ids) {
            if (conn && *conn) {
                std::optional<VideoMeta> row = (*conn)->find_video(id, nullptr);
                if (row && now - row->fetched_at < settings.max_age) continue;
                if (!row) {
                    std::optional<int64_t> checked = (*conn)->negative_checked_at(id, nullptr);
                    if (checked && now - *checked < settings.negative_ttl) continue;
                }
            }
            job->ids.push_back(id);
        }
    }
    share_context(settings, store);
    job->unsettled = job->ids.size();
    if (!job->ids.empty()) submit(job);
    return static_cast<int64_t>(job->ids.size());
}

void ProcessEngine::note_requested(const std::vector<std::string>& ids) {
    std::lock_guard lock(mutex_);
    requested_.insert(ids.begin(), ids.end());
}

QuotaView ProcessEngine::quota(const EngineSettings& settings) {
    QuotaView view;
    view.backend = "sqlite";
    std::shared_ptr<QuotaLedger> ledger = ledger_for(settings);
    if (!ledger) {
        view.limit = settings.quota_daily_units;
        view.resets_at = pacific_next_midnight(unix_now());
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

void ProcessEngine::close_connections_for_fork() noexcept {
    CacheStore::close_idle_connections_everywhere();
    if (ledger_) ledger_->close_connection();
}

bool ProcessEngine::stop(std::chrono::milliseconds bound) noexcept {
    std::unique_lock lock(mutex_);
    if (!loop_ready_) return true;
    stopping_ = true;
    shorten_busy_waits();
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

pid_t g_pid = 0;

void prepare_fork() {
    fork_guard_prepare();
    if (g_engine && g_engine->pid() == g_pid) g_engine->close_connections_for_fork();
}

void forget_inherited_engine() {
    fork_guard_release();
    // In the child of fork(): the parent's thread does not exist here, its mutexes may be
    // held forever and its SQLite connections belong to the parent. Leak it all.
    g_engine = nullptr;
    g_pid = getpid();
    forget_correlation_randomness();
}

}  // namespace

void Engine::global_init() noexcept {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    g_pid = getpid();
    pthread_atfork(&prepare_fork, &fork_guard_release, &forget_inherited_engine);
}

void Engine::global_cleanup() noexcept {
    if (g_engine && g_engine->loop_thread_alive()) return;
    curl_global_cleanup();
}

pid_t Engine::process_id() noexcept {
    return g_pid;
}

Engine& Engine::for_this_process() {
    // g_pid follows fork() through the handler, sparing a getpid() system call per call.
    if (g_engine && g_engine->pid() != g_pid) g_engine = nullptr;
    if (!g_engine) g_engine = new ProcessEngine();
    return *g_engine;
}

bool Engine::shutdown_this_process(std::chrono::milliseconds bound) noexcept {
    if (!g_engine || g_engine->pid() != g_pid) return true;
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
