// The loop thread: coalesces ids, claims them host-wide, reserves quota, sends chunks
// through one curl multi handle, writes the answers back and wakes the waiting calls.
// It never touches PHP: everything here is plain C++ data.

#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>

#include "engine_internal.h"
#include "fork_guard.h"
#include "indexnow.h"
#include "log.h"
#include "retry_policy.h"
#include "youtube_api.h"

namespace vault_metadata {

namespace {

constexpr size_t kChunkSize = 50;
constexpr uint64_t kHousekeepingEveryMs = 1000;
constexpr int64_t kRequestsFlushEveryMs = 2000;
constexpr uint64_t kClaimPollEveryMs = 20;
// A claim whose holder has not answered this long after its own upstream deadline is
// taken to be dead (a killed worker), and the ids are free again.
constexpr int64_t kClaimGraceSeconds = 5;
constexpr int64_t kChannelHandleTtlSeconds = 7 * 24 * 3600;
const char* const kRefreshLease = "refresh";
const char* const kMetricsPushedMarker = "metrics_pushed_through_ms";
constexpr int64_t kMinuteMs = 60000;
constexpr int kIndexNowMaxAttempts = 6;

// Capped exponential backoff with full jitter, for pushes that are not upstream calls.
// The first retry waits 1-2 s, then the window doubles, up to a minute.
int64_t backoff_ms(int failures, std::mt19937_64& random) {
    int64_t ceiling = std::min<int64_t>(60000, int64_t{2000} << std::min(failures, 5));
    return std::uniform_int_distribution<int64_t>(ceiling / 2, ceiling)(random);
}

std::string metrics_import_url(const std::string& configured) {
    // A bare server address gets VictoriaMetrics' Prometheus import path.
    if (configured.find("/api/") != std::string::npos) return configured;
    std::string url = configured;
    while (!url.empty() && url.back() == '/') url.pop_back();
    return url + "/api/v1/import/prometheus";
}

std::string join_ids(const std::vector<std::string>& ids) {
    // Ids are [A-Za-z0-9_-] (video) or [A-Za-z0-9_-] (channel): only the commas need encoding.
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

std::string api_url(const UpstreamTarget& target, const char* resource, const char* parts,
                    const std::vector<std::string>& ids) {
    std::string url = target.api_base + "/" + resource + "?part=" + parts + "&prettyPrint=false&id=" + join_ids(ids);
    if (!target.api_key.empty()) url += "&key=" + url_encode(target.api_key);
    return url;
}

int64_t claim_expiry_before(const UpstreamTarget& target, int64_t now) {
    return now - (target.upstream_timeout_ms / 1000 + kClaimGraceSeconds);
}

}  // namespace

void ProcessEngine::run_loop() {
    loop_tid_ = static_cast<pid_t>(syscall(SYS_gettid));
    http_ = std::make_unique<HttpClient>(&loop_);
    uv_timer_init(&loop_, &poll_timer_);
    poll_timer_.data = this;
    uv_timer_init(&loop_, &housekeeping_timer_);
    housekeeping_timer_.data = this;
    uv_timer_start(&housekeeping_timer_, &ProcessEngine::on_housekeeping_timer, kHousekeepingEveryMs,
                   kHousekeepingEveryMs);

    uv_run(&loop_, UV_RUN_DEFAULT);

    // uv_stop() came from on_wakeup after stopping_: abort transfers, close every handle,
    // and let the loop run the close callbacks.
    std::unique_lock working(loop_work_guard());
    http_->close();
    // Aborted rounds give their claims back, so that other workers fetch those ids now
    // instead of waiting for the claims to expire.
    for (Round* round : rounds_) {
        if (!round->store || round->claimed.empty()) continue;
        auto conn = round->store->acquire();
        if (conn) conn->write_fetch_results({}, {}, round->claimed, holder_, unix_now(), nullptr);
    }
    for (Round* round : rounds_) {
        for (auto& chunk : round->chunks) {
            if (chunk->timer_open) {
                chunk->timer_open = false;
                uv_close(reinterpret_cast<uv_handle_t*>(&chunk->retry_timer), nullptr);
            }
        }
    }
    uv_close(reinterpret_cast<uv_handle_t*>(&poll_timer_), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&housekeeping_timer_), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&wakeup_), nullptr);
    working.unlock();
    uv_run(&loop_, UV_RUN_DEFAULT);
    working.lock();
    uv_loop_close(&loop_);
    http_.reset();
    for (Round* round : rounds_) delete round;
    rounds_.clear();
    in_flight_.clear();
    foreign_waits_.clear();
    working.unlock();
    loop_alive_ = false;
    std::lock_guard lock(mutex_);
    loop_exited_ = true;
    stopped_cv_.notify_all();
}

void ProcessEngine::on_wakeup(uv_async_t* async) {
    LoopWorkScope working;
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
    // Ids already on their way upstream for another call of this process are not sent again.
    std::vector<std::string> new_ids;
    for (const std::string& id : job->ids) {
        auto [it, inserted] = in_flight_.try_emplace(id);
        it->second.push_back(job);
        if (inserted) new_ids.push_back(id);
    }
    if (new_ids.empty()) return;

    // Nor are ids another process of the host is already fetching: claim them first.
    std::vector<std::string> mine;
    std::vector<ForeignClaim> foreign;
    bool claimed = false;
    if (job->store) {
        std::string error;
        auto conn = job->store->acquire(&error);
        const int64_t now = unix_now();
        if (conn && conn->claim(new_ids, holder_, now, claim_expiry_before(job->target, now), job->read_at_ms, mine,
                                foreign, &error)) {
            claimed = true;
        } else {
            log_event(LogLevel::warning, "claim_failed", "", ErrorClass::none, error);
        }
    }
    if (!claimed) mine = new_ids;

    for (ForeignClaim& claim : foreign) {
        if (!job->wait_for_others) {
            settle(claim.video_id, nullptr, false, ErrorClass::none);
            continue;
        }
        foreign_waits_.push_back(ForeignWait{std::move(claim), job->store,
                                             static_cast<int64_t>(uv_now(&loop_)) + job->target.upstream_timeout_ms});
    }
    if (!foreign_waits_.empty() && !uv_is_active(reinterpret_cast<uv_handle_t*>(&poll_timer_))) {
        uv_timer_start(&poll_timer_, &ProcessEngine::on_poll_timer, kClaimPollEveryMs, kClaimPollEveryMs);
    }
    if (mine.empty()) return;

    auto* round = new Round{job->target, job->store, job->ledger, {}, 0, {}, {}, {}, 0,
                            job->correlation_id, ErrorClass::none, job->telemetry};
    if (claimed) round->claimed = mine;
    rounds_.insert(round);
    for (size_t first = 0; first < mine.size(); first += kChunkSize) {
        auto chunk = std::make_unique<Chunk>();
        chunk->round = round;
        size_t last = std::min(first + kChunkSize, mine.size());
        chunk->ids.assign(mine.begin() + static_cast<ptrdiff_t>(first), mine.begin() + static_cast<ptrdiff_t>(last));
        chunk->deadline_ms = static_cast<int64_t>(uv_now(&loop_)) + job->target.upstream_timeout_ms;
        chunk->retry_until_ms = job->wait_ms > 0
                                    ? std::min(chunk->deadline_ms, static_cast<int64_t>(uv_now(&loop_)) + job->wait_ms)
                                    : chunk->deadline_ms;
        round->chunks.push_back(std::move(chunk));
    }
    round->pending = round->chunks.size();

    // The quota is reserved for the whole round before any call goes out.
    int64_t wanted = static_cast<int64_t>(round->chunks.size());
    if (job->max_units >= 0) wanted = std::min(wanted, job->max_units);
    int64_t granted = round->ledger ? round->ledger->reserve(wanted, round->target.quota_daily_units, unix_now()) : -1;
    if (granted < 0) {
        log_event(LogLevel::error, "quota_ledger_unavailable", "", ErrorClass::none, "no upstream call without a ledger");
        granted = 0;
    } else if (granted < static_cast<int64_t>(round->chunks.size())) {
        log_event(LogLevel::warning, "quota_short", "", ErrorClass::quota,
                  std::to_string(static_cast<int64_t>(round->chunks.size()) - granted) + " chunk(s) not sent");
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
    ++chunk->attempts;
    int64_t remaining = chunk->deadline_ms - static_cast<int64_t>(uv_now(&loop_));
    http_->get(api_url(chunk->round->target, "videos", "snippet%2CcontentDetails%2Cstatistics%2Cstatus", chunk->ids),
               std::max<int64_t>(remaining, 1),
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
            if (round->telemetry) round->telemetry->record_upstream(Telemetry::wall_clock_ms(), ErrorClass::none, 1);
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
    if (round->telemetry) round->telemetry->record_upstream(Telemetry::wall_clock_ms(), error_class, 1);
    round->error = error_class;

    std::optional<int64_t> retry_after;
    if (!result.retry_after.empty()) retry_after = parse_retry_after(result.retry_after, unix_now());
    int64_t remaining = chunk->retry_until_ms - static_cast<int64_t>(uv_now(&loop_));
    double draw = std::uniform_real_distribution<double>(0.0, 1.0)(jitter_);
    std::optional<int64_t> delay =
        next_retry_delay_ms(RetryPolicy{}, error_class, chunk->attempts, retry_after, remaining, draw);
    log_event(delay ? LogLevel::info : LogLevel::warning, delay ? "upstream_retry" : "upstream_failed",
              round->correlation_id, error_class, reason);
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
    LoopWorkScope working;
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
    const int64_t now = unix_now();
    bool handles_missing = false;
    std::optional<CacheStore::Lease> conn;
    std::string error;
    if (round->store) {
        conn.emplace(round->store->acquire(&error));
        if (!*conn) conn.reset();
    }
    if (conn) {
        // Handles already known are written with the rows; the others are fetched after.
        std::vector<std::string> channel_ids;
        for (const VideoMeta& item : round->items) channel_ids.push_back(item.channel_id);
        std::sort(channel_ids.begin(), channel_ids.end());
        channel_ids.erase(std::unique(channel_ids.begin(), channel_ids.end()), channel_ids.end());
        std::unordered_map<std::string, std::string> known;
        for (auto& [channel, handle] : (*conn)->channel_handles(channel_ids, now - kChannelHandleTtlSeconds)) {
            known.emplace(std::move(channel), std::move(handle));
        }
        for (VideoMeta& item : round->items) {
            auto found = known.find(item.channel_id);
            if (found == known.end()) {
                handles_missing = handles_missing || !item.channel_id.empty();
            } else if (!found->second.empty()) {
                item.channel_handle = found->second;
            }
        }
    }

    // The waiting callers first: the write below takes a while for a large round, and what
    // they get does not depend on it. (This thread takes no new job before the write is done.)
    std::unordered_map<std::string, const VideoMeta*> by_id;
    for (const VideoMeta& item : round->items) by_id.emplace(item.video_id, &item);
    std::unordered_set<std::string> omitted(round->omitted.begin(), round->omitted.end());
    for (auto& chunk : round->chunks) {
        for (const std::string& id : chunk->ids) {
            auto item = by_id.find(id);
            settle(id, item == by_id.end() ? nullptr : item->second, omitted.count(id) > 0, round->error);
        }
    }

    if (round->store &&
        (!conn || !(*conn)->write_fetch_results(round->items, round->omitted, round->claimed, holder_, now, &error))) {
        // The callers have their answer; the next call fetches again.
        log_event(LogLevel::error, "cache_write_failed", "", ErrorClass::none, error);
    }
    conn.reset();

    if (handles_missing) fetch_channel_handles(round);

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

void ProcessEngine::settle(const std::string& id, const VideoMeta* item, bool omitted, ErrorClass error) {
    auto waiters = in_flight_.find(id);
    if (waiters == in_flight_.end()) return;
    for (auto& job : waiters->second) {
        std::lock_guard lock(job->mutex);
        if (item) {
            job->fetched.emplace(id, *item);
        } else if (omitted) {
            job->omitted.insert(id);
        } else if (job->upstream_error == ErrorClass::none) {
            job->upstream_error = error == ErrorClass::none ? ErrorClass::quota : error;
        }
        if (--job->unsettled == 0) job->settled_cv.notify_all();
    }
    in_flight_.erase(waiters);
}

// channels.list for the channels of a round whose handle is not known yet: the callers
// already have their rows (handle null); the rows are rewritten when the handles land.
void ProcessEngine::fetch_channel_handles(Round* round) {
    struct ChannelFetch {
        std::shared_ptr<CacheStore> store;
        std::vector<VideoMeta> items;  // the videos waiting for a handle
        std::vector<std::pair<std::string, std::string>> handles;
        std::unordered_set<std::string> answered;
        std::vector<std::string> asked;
        size_t pending = 0;
    };
    auto fetch = std::make_shared<ChannelFetch>();
    fetch->store = round->store;
    std::unordered_set<std::string> channels;
    for (const VideoMeta& item : round->items) {
        if (item.channel_handle || item.channel_id.empty()) continue;
        fetch->items.push_back(item);
        if (channels.insert(item.channel_id).second) fetch->asked.push_back(item.channel_id);
    }
    std::vector<std::vector<std::string>> chunks;
    for (size_t first = 0; first < fetch->asked.size(); first += kChunkSize) {
        size_t last = std::min(first + kChunkSize, fetch->asked.size());
        chunks.emplace_back(fetch->asked.begin() + static_cast<ptrdiff_t>(first),
                            fetch->asked.begin() + static_cast<ptrdiff_t>(last));
    }
    int64_t granted = round->ledger ? round->ledger->reserve(static_cast<int64_t>(chunks.size()),
                                                             round->target.quota_daily_units, unix_now())
                                    : 0;
    if (granted <= 0) return;  // handles stay null until a later round has quota
    chunks.resize(static_cast<size_t>(granted));
    fetch->pending = chunks.size();

    auto on_all_answered = [this, fetch]() {
        const int64_t now = unix_now();
        std::vector<std::string> without_handle;
        for (const std::string& channel : fetch->asked) {
            if (!fetch->answered.count(channel)) continue;
            bool has = std::any_of(fetch->handles.begin(), fetch->handles.end(),
                                   [&](const auto& pair) { return pair.first == channel; });
            if (!has) without_handle.push_back(channel);
        }
        std::vector<std::string> video_ids;
        for (const VideoMeta& item : fetch->items) video_ids.push_back(item.video_id);
        std::string error;
        auto conn = fetch->store->acquire(&error);
        // The handles go into the rows as they are now: a newer fetch (or a deletion) that
        // landed while channels.list was answering is kept, not overwritten.
        if (!conn || !conn->write_channel_handles(fetch->handles, without_handle, now, &error) ||
            !conn->apply_channel_handles(video_ids, fetch->handles, &error)) {
            log_event(LogLevel::error, "cache_write_failed", "", ErrorClass::none, error);
        }
    };

    std::shared_ptr<Telemetry> telemetry = round->telemetry;
    for (auto& ids : chunks) {
        http_->get(api_url(round->target, "channels", "snippet", ids), round->target.upstream_timeout_ms,
                   [fetch, ids, on_all_answered, telemetry](HttpResult&& result) {
                       ErrorClass outcome = result.status == 0 ? result.transport_error
                                                               : classify_http_response(result.status, result.body).error_class;
                       if (telemetry) telemetry->record_upstream(Telemetry::wall_clock_ms(), outcome, 1);
                       if (result.status == 200) {
                           std::vector<std::pair<std::string, std::string>> handles;
                           if (parse_channels_list(result.body, handles)) {
                               fetch->answered.insert(ids.begin(), ids.end());
                               for (auto& pair : handles) fetch->handles.push_back(std::move(pair));
                           }
                       } else {
                           log_event(LogLevel::warning, "channel_handles_failed", "",
                                     classify_http_response(result.status, result.body).error_class,
                                     result.transport_message);
                       }
                       if (--fetch->pending == 0) on_all_answered();
                   });
    }
}

void ProcessEngine::on_poll_timer(uv_timer_t* timer) {
    LoopWorkScope working;
    static_cast<ProcessEngine*>(timer->data)->poll_foreign_claims();
}

void ProcessEngine::poll_foreign_claims() {
    const int64_t now_ms = static_cast<int64_t>(uv_now(&loop_));
    std::vector<ForeignWait> still_waiting;
    for (ForeignWait& wait : foreign_waits_) {
        std::optional<VideoMeta> row;
        ClaimState state = ClaimState::abandoned;
        if (wait.store) {
            auto conn = wait.store->acquire();
            if (conn) {
                // No expiry test here: our own deadline (the upstream timeout) bounds the wait.
                state = conn->poll_claim(wait.claim, 0, row);
            }
        }
        if (state == ClaimState::pending && now_ms < wait.deadline_ms) {
            still_waiting.push_back(std::move(wait));
            continue;
        }
        settle(wait.claim.video_id, row ? &*row : nullptr, state == ClaimState::omitted,
               state == ClaimState::pending ? ErrorClass::timeout : ErrorClass::none);
    }
    foreign_waits_.swap(still_waiting);
    if (foreign_waits_.empty()) uv_timer_stop(&poll_timer_);
}

void ProcessEngine::on_housekeeping_timer(uv_timer_t* timer) {
    LoopWorkScope working;
    static_cast<ProcessEngine*>(timer->data)->housekeeping();
}

void ProcessEngine::housekeeping() {
    loop_heartbeat_ms_ = static_cast<int64_t>(uv_hrtime() / 1000000);
    LoopContext context;
    {
        std::lock_guard lock(mutex_);
        if (!has_context_) return;
        context = context_;
    }
    const int64_t now_ms = static_cast<int64_t>(uv_now(&loop_));
    if (now_ms - last_requests_flush_ms_ >= kRequestsFlushEveryMs) {
        last_requests_flush_ms_ = now_ms;
        flush_requests(context);
    }
    post_indexnow(context);
    if (!context.store) return;

    // Everyone asks for the lease often, so that a dead holder is replaced within
    // about one interval; only the holder refreshes and checkpoints, once an interval.
    const int64_t interval_s = std::max<int64_t>(context.settings.refresh_interval, 1);
    const int64_t now = unix_now();
    auto conn = context.store->acquire();
    if (!conn) return;
    // Read first: only the holder, or a taker of an expired lease, needs the write lock.
    std::optional<std::pair<std::string, int64_t>> lease = conn->lease_holder(kRefreshLease);
    if (lease && lease->first != holder_ && lease->second > now) return;
    if (!conn->acquire_lease(kRefreshLease, holder_, now, now + interval_s + 1)) return;
    push_metrics(context, true);
    if (last_refresh_ms_ != 0 && now_ms - last_refresh_ms_ < interval_s * 1000) return;
    last_refresh_ms_ = now_ms;
    conn->checkpoint();
    refresh_round(context);
}

void ProcessEngine::flush_requests(const LoopContext& context) {
    std::vector<std::string> ids;
    {
        std::lock_guard lock(mutex_);
        if (requested_.empty()) return;
        ids.assign(requested_.begin(), requested_.end());
        requested_.clear();
    }
    if (!context.store) return;
    std::string error;
    auto conn = context.store->acquire(&error);
    if (!conn || !conn->note_requests(ids, unix_now(), &error)) {
        log_event(LogLevel::warning, "requests_not_noted", "", ErrorClass::none, error);
    }
}

void ProcessEngine::refresh_round(const LoopContext& context) {
    const EngineSettings& settings = context.settings;
    if (!settings.enabled || settings.refresh_budget_units <= 0 || !context.ledger) return;
    if (settings.api_key.empty() && settings.api_base == kDefaultApiBase) return;
    const int64_t now = unix_now();
    std::vector<std::string> ids;
    {
        auto conn = context.store->acquire();
        if (!conn) return;
        // Asked for within the last max_age, and stale before the next round comes.
        ids = conn->refresh_candidates(now - settings.max_age, now + settings.refresh_interval - settings.max_age,
                                       static_cast<int>(settings.refresh_budget_units * kChunkSize));
        conn->forget_requests_before(now - 2 * std::max<int64_t>(settings.max_age, settings.refresh_interval));
    }
    // Not what this process is already fetching for a caller.
    ids.erase(std::remove_if(ids.begin(), ids.end(), [&](const std::string& id) { return in_flight_.count(id) > 0; }),
              ids.end());
    if (ids.empty()) return;
    auto job = std::make_shared<FetchJob>();
    job->ids = std::move(ids);
    job->unsettled = job->ids.size();
    job->read_at_ms = unix_now_ms();
    job->target = UpstreamTarget{settings.api_base, settings.api_key, settings.upstream_timeout_ms,
                                 settings.quota_daily_units};
    job->store = context.store;
    job->ledger = context.ledger;
    job->max_units = settings.refresh_budget_units;
    job->wait_for_others = false;
    log_event(LogLevel::info, "refresh_round", "", ErrorClass::none, std::to_string(job->ids.size()) + " id(s)");
    dispatch(job);
}

}  // namespace vault_metadata

namespace vault_metadata {

// One process per host (the lease holder) pushes the completed minutes that have not been
// pushed yet; the marker in the cache survives a change of holder, so no minute goes twice.
void ProcessEngine::push_metrics(const LoopContext& context, bool lease_holder) {
    const EngineSettings& settings = context.settings;
    if (!lease_holder || settings.metrics_url.empty() || !context.telemetry || metrics_in_flight_) return;
    const int64_t now_ms = static_cast<int64_t>(uv_now(&loop_));
    if (now_ms < metrics_next_push_ms_) return;
    const int64_t wall_ms = Telemetry::wall_clock_ms();
    int64_t since = wall_ms - 60 * kMinuteMs;
    {
        auto conn = context.store->acquire();
        if (!conn) return;
        if (std::optional<int64_t> pushed = conn->marker(kMetricsPushedMarker)) since = std::max(since, *pushed + kMinuteMs);
    }
    const int64_t current_minute = wall_ms - wall_ms % kMinuteMs;
    std::string body = context.telemetry->prometheus_import_lines(wall_ms, since);
    if (body.empty()) {
        metrics_next_push_ms_ = now_ms + std::max<int64_t>(settings.metrics_flush_interval, 1) * 1000;
        return;
    }
    metrics_in_flight_ = true;
    std::shared_ptr<CacheStore> store = context.store;
    const int64_t interval_ms = std::max<int64_t>(settings.metrics_flush_interval, 1) * 1000;
    http_->post(metrics_import_url(settings.metrics_url), std::move(body), "text/plain", 10000,
                [this, store, current_minute, interval_ms](HttpResult&& result) {
                    metrics_in_flight_ = false;
                    const int64_t at = static_cast<int64_t>(uv_now(&loop_));
                    if (result.status >= 200 && result.status < 300) {
                        metrics_failures_ = 0;
                        metrics_next_push_ms_ = at + interval_ms;
                        auto conn = store->acquire();
                        if (conn) conn->set_marker(kMetricsPushedMarker, current_minute - kMinuteMs);
                        return;
                    }
                    // Never blocks a PHP call: the next try waits, and the minutes stay unpushed.
                    metrics_next_push_ms_ = at + std::min(interval_ms, backoff_ms(metrics_failures_++, jitter_));
                    log_event(LogLevel::warning, "metrics_push_failed", "",
                              result.status == 0 ? result.transport_error : ErrorClass::server,
                              result.status ? "HTTP " + std::to_string(result.status) : result.transport_message);
                });
}

void ProcessEngine::post_indexnow(const LoopContext& context) {
    {
        std::lock_guard lock(mutex_);
        for (size_t first = 0; first < indexnow_queue_.size(); first += kIndexNowMaxBatch) {
            size_t last = std::min(first + kIndexNowMaxBatch, indexnow_queue_.size());
            IndexNowBatch batch;
            batch.urls.assign(std::make_move_iterator(indexnow_queue_.begin() + static_cast<ptrdiff_t>(first)),
                              std::make_move_iterator(indexnow_queue_.begin() + static_cast<ptrdiff_t>(last)));
            indexnow_batches_.push_back(std::move(batch));
        }
        indexnow_queue_.clear();
    }
    const EngineSettings& settings = context.settings;
    if (indexnow_batches_.empty() || settings.indexnow_endpoint.empty()) return;
    const int64_t now_ms = static_cast<int64_t>(uv_now(&loop_));
    // Done or dropped batches go first, wherever they are: only in-flight ones are referenced.
    indexnow_batches_.remove_if([](const IndexNowBatch& b) { return !b.in_flight && b.attempts > 0 && b.urls.empty(); });
    for (IndexNowBatch& batch : indexnow_batches_) {
        if (batch.in_flight || batch.urls.empty() || now_ms < batch.next_attempt_ms) continue;
        batch.in_flight = true;
        ++batch.attempts;
        IndexNowBatch* target = &batch;
        std::string body = indexnow_body(settings.indexnow_host, settings.indexnow_key,
                                         settings.indexnow_key_location, batch.urls);
        http_->post(settings.indexnow_endpoint, std::move(body), "application/json; charset=utf-8", 30000,
                    [this, target](HttpResult&& result) {
                        target->in_flight = false;
                        IndexNowOutcome outcome = indexnow_outcome(result.status);
                        if (outcome == IndexNowOutcome::retry && target->attempts < kIndexNowMaxAttempts) {
                            target->next_attempt_ms =
                                static_cast<int64_t>(uv_now(&loop_)) + backoff_ms(target->attempts - 1, jitter_);
                            log_event(LogLevel::info, "indexnow_retry", "", ErrorClass::none,
                                      "HTTP " + std::to_string(result.status));
                            return;
                        }
                        if (outcome != IndexNowOutcome::done) {
                            log_event(LogLevel::error, "indexnow_dropped", "", ErrorClass::none,
                                      "HTTP " + std::to_string(result.status) + ", " +
                                          std::to_string(target->urls.size()) + " URL(s)");
                        }
                        target->urls.clear();  // done or dropped: removed below
                    });
    }
}

}  // namespace vault_metadata
