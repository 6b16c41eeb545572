#include "cache_store.h"

#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <unordered_map>

#include "payload_codec.h"
#include "sqlite_busy.h"

namespace vault_metadata {

namespace {

bool exec(sqlite3* db, const char* sql, std::string* error) {
    char* message = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &message) == SQLITE_OK) return true;
    if (error) *error = message ? message : sqlite3_errmsg(db);
    sqlite3_free(message);
    return false;
}

bool query_text(sqlite3* db, const char* sql, std::string& out) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) != SQLITE_OK) return false;
    bool ok = sqlite3_step(stmt) == SQLITE_ROW;
    if (ok) {
        const unsigned char* text = sqlite3_column_text(stmt, 0);
        out = text ? reinterpret_cast<const char*>(text) : "";
    }
    sqlite3_finalize(stmt);
    return ok;
}

// Each entry moves the schema from version i to i + 1. Append, never edit.
const char* const kMigrations[] = {
    "CREATE TABLE IF NOT EXISTS videos ("
    "  video_id TEXT PRIMARY KEY,"
    "  fetched_at INTEGER NOT NULL,"
    "  payload BLOB NOT NULL"
    ") WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS negative_ids ("
    "  video_id TEXT PRIMARY KEY,"
    "  checked_at INTEGER NOT NULL"
    ") WITHOUT ROWID;",

    // Cross-process coalescing, background refresh and channel handles.
    "CREATE TABLE IF NOT EXISTS claims ("
    "  video_id TEXT PRIMARY KEY,"
    "  holder TEXT NOT NULL,"
    "  claimed_at INTEGER NOT NULL"
    ") WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS requests ("
    "  video_id TEXT PRIMARY KEY,"
    "  requested_at INTEGER NOT NULL"
    ") WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS requests_by_time ON requests (requested_at);"
    "CREATE TABLE IF NOT EXISTS leases ("
    "  name TEXT PRIMARY KEY,"
    "  holder TEXT NOT NULL,"
    "  expires_at INTEGER NOT NULL"
    ") WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS channels ("
    "  channel_id TEXT PRIMARY KEY,"
    "  handle TEXT,"
    "  fetched_at INTEGER NOT NULL"
    ") WITHOUT ROWID;",

    "CREATE TABLE IF NOT EXISTS markers ("
    "  name TEXT PRIMARY KEY,"
    "  value INTEGER NOT NULL"
    ") WITHOUT ROWID;",

    // A released claim stays a while, so that a worker that read the cache before the answer
    // landed does not fetch the same ids again.
    "ALTER TABLE claims ADD COLUMN released_at_ms INTEGER;",
};
static_assert(sizeof(kMigrations) / sizeof(kMigrations[0]) == CacheStore::kSchemaVersion);

// Many workers start at once: BEGIN IMMEDIATE serialises them, and the version is read
// again inside the transaction so only the first one migrates.
bool migrate(sqlite3* db, std::string* error) {
    // The common case, every worker start after the first: nothing to do, no write lock.
    std::string current;
    if (query_text(db, "PRAGMA user_version", current) && std::atoi(current.c_str()) == CacheStore::kSchemaVersion) {
        return true;
    }
    if (!exec(db, "BEGIN IMMEDIATE", error)) return false;
    std::string version_text;
    if (!query_text(db, "PRAGMA user_version", version_text)) {
        if (error) *error = sqlite3_errmsg(db);
        exec(db, "ROLLBACK", nullptr);
        return false;
    }
    int version = std::atoi(version_text.c_str());
    if (version > CacheStore::kSchemaVersion) {
        if (error) *error = "cache schema version " + version_text + " is newer than this build";
        exec(db, "ROLLBACK", nullptr);
        return false;
    }
    for (int v = version; v < CacheStore::kSchemaVersion; ++v) {
        if (!exec(db, kMigrations[v], error)) {
            exec(db, "ROLLBACK", nullptr);
            return false;
        }
    }
    if (version != CacheStore::kSchemaVersion) {
        std::string set = "PRAGMA user_version = " + std::to_string(CacheStore::kSchemaVersion);
        if (!exec(db, set.c_str(), error)) {
            exec(db, "ROLLBACK", nullptr);
            return false;
        }
    }
    return exec(db, "COMMIT", error);
}

bool is_damage(int rc) {
    int primary = rc & 0xff;
    return primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB;
}

// Moves a damaged cache (and its WAL and shared-memory files) aside, keeping it for a
// post-mortem instead of deleting evidence.
void move_aside(const std::string& path) {
    std::string suffix = ".damaged-" + std::to_string(std::time(nullptr)) + "-" + std::to_string(getpid());
    std::rename(path.c_str(), (path + suffix).c_str());
    std::remove((path + "-wal").c_str());
    std::remove((path + "-shm").c_str());
}

}  // namespace

CacheConnection::~CacheConnection() {
    if (!db_) return;
    for (sqlite3_stmt* stmt : statements_) sqlite3_finalize(stmt);
    sqlite3_close_v2(db_);
}

bool CacheConnection::prepare(std::string* error) {
    static const char* const sql[kStatementCount] = {
        /* kSelectVideo */ "SELECT fetched_at, payload FROM videos WHERE video_id = ?1",
        /* kSelectNegative */ "SELECT checked_at FROM negative_ids WHERE video_id = ?1",
        /* kUpsertVideo */
        "INSERT INTO videos (video_id, fetched_at, payload) VALUES (?1, ?2, ?3) "
        "ON CONFLICT (video_id) DO UPDATE SET fetched_at = excluded.fetched_at, payload = excluded.payload "
        "WHERE excluded.fetched_at >= videos.fetched_at",
        /* kDeleteVideo */ "DELETE FROM videos WHERE video_id = ?1",
        /* kUpsertNegative */
        "INSERT INTO negative_ids (video_id, checked_at) VALUES (?1, ?2) "
        "ON CONFLICT (video_id) DO UPDATE SET checked_at = excluded.checked_at",
        /* kDeleteNegative */ "DELETE FROM negative_ids WHERE video_id = ?1",
        /* kClaim: a row comes back only when the claim is ours. */
        // Free are: a live claim of ours, an expired one, and one released before the caller
        // read the cache (?5). One released after that read has an answer the caller has not seen.
        "INSERT INTO claims (video_id, holder, claimed_at, released_at_ms) VALUES (?1, ?2, ?3, NULL) "
        "ON CONFLICT (video_id) DO UPDATE SET holder = excluded.holder, claimed_at = excluded.claimed_at, "
        "released_at_ms = NULL "
        "WHERE (claims.released_at_ms IS NULL AND (claims.holder = excluded.holder OR claims.claimed_at < ?4)) "
        "OR (claims.released_at_ms IS NOT NULL AND claims.released_at_ms < ?5) "
        "RETURNING holder",
        /* kSelectClaim */ "SELECT holder, claimed_at, released_at_ms FROM claims WHERE video_id = ?1",
        /* kReleaseClaim */
        "UPDATE claims SET released_at_ms = ?3 WHERE video_id = ?1 AND holder = ?2 AND released_at_ms IS NULL",
        /* kSelectChannel */ "SELECT handle FROM channels WHERE channel_id = ?1 AND fetched_at >= ?2",
        /* kUpsertChannel */
        "INSERT INTO channels (channel_id, handle, fetched_at) VALUES (?1, ?2, ?3) "
        "ON CONFLICT (channel_id) DO UPDATE SET handle = excluded.handle, fetched_at = excluded.fetched_at",
        /* kUpsertRequest */
        "INSERT INTO requests (video_id, requested_at) VALUES (?1, ?2) "
        "ON CONFLICT (video_id) DO UPDATE SET requested_at = max(requested_at, excluded.requested_at)",
        /* kRefreshCandidates */
        "SELECT r.video_id FROM requests r JOIN videos v ON v.video_id = r.video_id "
        "WHERE r.requested_at >= ?1 AND v.fetched_at <= ?2 ORDER BY r.requested_at DESC LIMIT ?3",
        /* kForgetRequests */ "DELETE FROM requests WHERE requested_at < ?1",
        /* kAcquireLease: a row comes back only when the lease is ours. */
        "INSERT INTO leases (name, holder, expires_at) VALUES (?1, ?2, ?4) "
        "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at "
        "WHERE leases.holder = excluded.holder OR leases.expires_at <= ?3 "
        "RETURNING holder",
        /* kSelectLease */ "SELECT holder, expires_at FROM leases WHERE name = ?1",
        /* kUpdatePayload */ "UPDATE videos SET payload = ?2 WHERE video_id = ?1 AND fetched_at = ?3",
    };
    for (int i = 0; i < kStatementCount; ++i) {
        if (sqlite3_prepare_v3(db_, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &statements_[i], nullptr) != SQLITE_OK) {
            if (error) *error = sqlite3_errmsg(db_);
            return false;
        }
    }
    return true;
}

namespace {

void bind_text(sqlite3_stmt* stmt, int index, std::string_view text) {
    sqlite3_bind_text(stmt, index, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
}

// Resets a statement when the scope ends, whatever path leaves it.
struct StatementScope {
    sqlite3_stmt* stmt;
    ~StatementScope() {
        sqlite3_reset(stmt);
        sqlite3_clear_bindings(stmt);
    }
};

}  // namespace

bool CacheConnection::begin(std::string* error) {
    return exec(db_, "BEGIN IMMEDIATE", error);
}

bool CacheConnection::finish(bool ok, std::string* error) {
    if (ok && exec(db_, "COMMIT", error)) return true;
    exec(db_, "ROLLBACK", nullptr);
    return false;
}

bool CacheConnection::step_done(Statement which, std::string* error) {
    StatementScope scope{statements_[which]};
    int rc = sqlite3_step(statements_[which]);
    if (rc == SQLITE_DONE || rc == SQLITE_ROW) return true;
    if (error) *error = sqlite3_errmsg(db_);
    return false;
}

std::optional<VideoMeta> CacheConnection::find_video(std::string_view video_id, bool* error) {
    sqlite3_stmt* stmt = statements_[kSelectVideo];
    StatementScope scope{stmt};
    bind_text(stmt, 1, video_id);
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        VideoMeta meta;
        const void* blob = sqlite3_column_blob(stmt, 1);
        int size = sqlite3_column_bytes(stmt, 1);
        if (blob && decode_payload(static_cast<const char*>(blob), static_cast<size_t>(size), meta)) {
            meta.video_id.assign(video_id);
            meta.fetched_at = sqlite3_column_int64(stmt, 0);
            return meta;
        }
    } else if (rc != SQLITE_DONE && error) {
        *error = true;
    }
    return std::nullopt;
}

std::optional<int64_t> CacheConnection::negative_checked_at(std::string_view video_id, bool* error) {
    sqlite3_stmt* stmt = statements_[kSelectNegative];
    StatementScope scope{stmt};
    bind_text(stmt, 1, video_id);
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) return sqlite3_column_int64(stmt, 0);
    if (rc != SQLITE_DONE && error) *error = true;
    return std::nullopt;
}

bool CacheConnection::claim(const std::vector<std::string>& ids, const std::string& holder, int64_t now,
                            int64_t expired_before, int64_t read_at_ms, std::vector<std::string>& mine,
                            std::vector<ForeignClaim>& foreign, std::string* error) {
    if (!begin(error)) return false;
    sqlite3_stmt* claim_stmt = statements_[kClaim];
    sqlite3_stmt* select_stmt = statements_[kSelectClaim];
    bool ok = true;
    for (const std::string& id : ids) {
        StatementScope scope{claim_stmt};
        bind_text(claim_stmt, 1, id);
        bind_text(claim_stmt, 2, holder);
        sqlite3_bind_int64(claim_stmt, 3, now);
        sqlite3_bind_int64(claim_stmt, 4, expired_before);
        sqlite3_bind_int64(claim_stmt, 5, read_at_ms);
        int rc = sqlite3_step(claim_stmt);
        if (rc == SQLITE_ROW) {
            mine.push_back(id);
            continue;
        }
        if (rc != SQLITE_DONE) {
            if (error) *error = sqlite3_errmsg(db_);
            ok = false;
            break;
        }
        StatementScope select_scope{select_stmt};
        bind_text(select_stmt, 1, id);
        if (sqlite3_step(select_stmt) == SQLITE_ROW) {
            foreign.push_back(ForeignClaim{id, sqlite3_column_int64(select_stmt, 1)});
        } else {
            mine.push_back(id);  // released between the two statements: cannot happen inside the transaction
        }
    }
    if (!finish(ok, error)) {
        mine.clear();
        foreign.clear();
        return false;
    }
    return true;
}

ClaimState CacheConnection::poll_claim(const ForeignClaim& claim, int64_t expired_before,
                                       std::optional<VideoMeta>& row) {
    // The claim first: its holder writes the answer and releases the claim in one
    // transaction, so once the claim is gone the answer (if any) is already visible.
    {
        sqlite3_stmt* stmt = statements_[kSelectClaim];
        StatementScope scope{stmt};
        bind_text(stmt, 1, claim.video_id);
        if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_type(stmt, 2) == SQLITE_NULL &&
            sqlite3_column_int64(stmt, 1) >= expired_before) {
            return ClaimState::pending;
        }
    }
    std::optional<VideoMeta> found = find_video(claim.video_id, nullptr);
    if (found && found->fetched_at >= claim.claimed_at) {
        row = std::move(found);
        return ClaimState::landed;
    }
    std::optional<int64_t> omitted = negative_checked_at(claim.video_id, nullptr);
    if (omitted && *omitted >= claim.claimed_at) return ClaimState::omitted;
    // Released without an answer (the other fetch failed) or its holder died.
    return ClaimState::abandoned;
}

bool CacheConnection::write_fetch_results(const std::vector<VideoMeta>& items,
                                          const std::vector<std::string>& omitted_ids,
                                          const std::vector<std::string>& released_ids, const std::string& holder,
                                          int64_t now, std::string* error) {
    if (items.empty() && omitted_ids.empty() && released_ids.empty()) return true;
    if (!begin(error)) return false;
    bool ok = true;
    std::string payload;
    for (size_t i = 0; ok && i < items.size(); ++i) {
        const VideoMeta& item = items[i];
        payload = encode_payload(item);
        sqlite3_stmt* upsert = statements_[kUpsertVideo];
        bind_text(upsert, 1, item.video_id);
        sqlite3_bind_int64(upsert, 2, item.fetched_at);
        sqlite3_bind_blob(upsert, 3, payload.data(), static_cast<int>(payload.size()), SQLITE_STATIC);
        bind_text(statements_[kDeleteNegative], 1, item.video_id);
        ok = step_done(kUpsertVideo, error) && step_done(kDeleteNegative, error);
    }
    for (size_t i = 0; ok && i < omitted_ids.size(); ++i) {
        bind_text(statements_[kDeleteVideo], 1, omitted_ids[i]);
        bind_text(statements_[kUpsertNegative], 1, omitted_ids[i]);
        sqlite3_bind_int64(statements_[kUpsertNegative], 2, now);
        ok = step_done(kDeleteVideo, error) && step_done(kUpsertNegative, error);
    }
    const int64_t released_at_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    for (size_t i = 0; ok && i < released_ids.size(); ++i) {
        bind_text(statements_[kReleaseClaim], 1, released_ids[i]);
        bind_text(statements_[kReleaseClaim], 2, holder);
        sqlite3_bind_int64(statements_[kReleaseClaim], 3, released_at_ms);
        ok = step_done(kReleaseClaim, error);
    }
    return finish(ok, error);
}

std::vector<std::pair<std::string, std::string>> CacheConnection::channel_handles(
    const std::vector<std::string>& channel_ids, int64_t fresh_after) {
    std::vector<std::pair<std::string, std::string>> found;
    sqlite3_stmt* stmt = statements_[kSelectChannel];
    for (const std::string& id : channel_ids) {
        StatementScope scope{stmt};
        bind_text(stmt, 1, id);
        sqlite3_bind_int64(stmt, 2, fresh_after);
        if (sqlite3_step(stmt) == SQLITE_ROW) {
            const unsigned char* handle = sqlite3_column_text(stmt, 0);
            // A known channel without a handle is remembered as an empty string.
            found.emplace_back(id, handle ? reinterpret_cast<const char*>(handle) : "");
        }
    }
    return found;
}

bool CacheConnection::apply_channel_handles(const std::vector<std::string>& video_ids,
                                            const std::vector<std::pair<std::string, std::string>>& handles,
                                            std::string* error) {
    if (video_ids.empty() || handles.empty()) return true;
    std::unordered_map<std::string_view, std::string_view> by_channel;
    for (const auto& [channel, handle] : handles) by_channel.emplace(channel, handle);
    if (!begin(error)) return false;
    bool ok = true;
    std::string payload;
    for (size_t i = 0; ok && i < video_ids.size(); ++i) {
        std::optional<VideoMeta> row = find_video(video_ids[i], nullptr);
        if (!row) continue;
        auto found = by_channel.find(row->channel_id);
        if (found == by_channel.end() || row->channel_handle == std::string(found->second)) continue;
        row->channel_handle = std::string(found->second);
        payload = encode_payload(*row);
        sqlite3_stmt* update = statements_[kUpdatePayload];
        bind_text(update, 1, row->video_id);
        sqlite3_bind_blob(update, 2, payload.data(), static_cast<int>(payload.size()), SQLITE_STATIC);
        sqlite3_bind_int64(update, 3, row->fetched_at);
        ok = step_done(kUpdatePayload, error);
    }
    return finish(ok, error);
}

bool CacheConnection::write_channel_handles(const std::vector<std::pair<std::string, std::string>>& handles,
                                            const std::vector<std::string>& without_handle, int64_t now,
                                            std::string* error) {
    if (handles.empty() && without_handle.empty()) return true;
    if (!begin(error)) return false;
    bool ok = true;
    sqlite3_stmt* stmt = statements_[kUpsertChannel];
    for (size_t i = 0; ok && i < handles.size(); ++i) {
        bind_text(stmt, 1, handles[i].first);
        bind_text(stmt, 2, handles[i].second);
        sqlite3_bind_int64(stmt, 3, now);
        ok = step_done(kUpsertChannel, error);
    }
    for (size_t i = 0; ok && i < without_handle.size(); ++i) {
        bind_text(stmt, 1, without_handle[i]);
        sqlite3_bind_null(stmt, 2);
        sqlite3_bind_int64(stmt, 3, now);
        ok = step_done(kUpsertChannel, error);
    }
    return finish(ok, error);
}

bool CacheConnection::note_requests(const std::vector<std::string>& ids, int64_t now, std::string* error) {
    if (ids.empty()) return true;
    if (!begin(error)) return false;
    bool ok = true;
    for (size_t i = 0; ok && i < ids.size(); ++i) {
        bind_text(statements_[kUpsertRequest], 1, ids[i]);
        sqlite3_bind_int64(statements_[kUpsertRequest], 2, now);
        ok = step_done(kUpsertRequest, error);
    }
    return finish(ok, error);
}

std::vector<std::string> CacheConnection::refresh_candidates(int64_t requested_since, int64_t fetched_before,
                                                             int limit) {
    std::vector<std::string> ids;
    sqlite3_stmt* stmt = statements_[kRefreshCandidates];
    StatementScope scope{stmt};
    sqlite3_bind_int64(stmt, 1, requested_since);
    sqlite3_bind_int64(stmt, 2, fetched_before);
    sqlite3_bind_int(stmt, 3, limit);
    while (sqlite3_step(stmt) == SQLITE_ROW) {
        ids.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)));
    }
    return ids;
}

bool CacheConnection::forget_requests_before(int64_t requested_before) {
    sqlite3_bind_int64(statements_[kForgetRequests], 1, requested_before);
    if (!step_done(kForgetRequests, nullptr)) return false;
    // Released claims only matter to calls that read the cache moments before; an hour is plenty.
    std::string sql = "DELETE FROM claims WHERE released_at_ms < " + std::to_string((requested_before - 3600) * 1000);
    return exec(db_, sql.c_str(), nullptr);
}

bool CacheConnection::acquire_lease(const std::string& name, const std::string& holder, int64_t now,
                                    int64_t expires_at) {
    sqlite3_stmt* stmt = statements_[kAcquireLease];
    StatementScope scope{stmt};
    bind_text(stmt, 1, name);
    bind_text(stmt, 2, holder);
    sqlite3_bind_int64(stmt, 3, now);
    sqlite3_bind_int64(stmt, 4, expires_at);
    return sqlite3_step(stmt) == SQLITE_ROW;
}

std::optional<std::pair<std::string, int64_t>> CacheConnection::lease_holder(const std::string& name) {
    sqlite3_stmt* stmt = statements_[kSelectLease];
    StatementScope scope{stmt};
    bind_text(stmt, 1, name);
    if (sqlite3_step(stmt) != SQLITE_ROW) return std::nullopt;
    return std::make_pair(std::string(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0))),
                          sqlite3_column_int64(stmt, 1));
}

std::optional<int64_t> CacheConnection::marker(const std::string& name) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, "SELECT value FROM markers WHERE name = ?1", -1, &stmt, nullptr) != SQLITE_OK) {
        return std::nullopt;
    }
    bind_text(stmt, 1, name);
    std::optional<int64_t> value;
    if (sqlite3_step(stmt) == SQLITE_ROW) value = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    return value;
}

bool CacheConnection::set_marker(const std::string& name, int64_t value) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_,
                           "INSERT INTO markers (name, value) VALUES (?1, ?2) "
                           "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                           -1, &stmt, nullptr) != SQLITE_OK) {
        return false;
    }
    bind_text(stmt, 1, name);
    sqlite3_bind_int64(stmt, 2, value);
    bool ok = sqlite3_step(stmt) == SQLITE_DONE;
    sqlite3_finalize(stmt);
    return ok;
}

bool CacheConnection::exec_simple(const char* sql) {
    return exec(db_, sql, nullptr);
}

bool CacheConnection::checkpoint() {
    return exec(db_, "PRAGMA wal_checkpoint(PASSIVE)", nullptr);
}

int64_t CacheConnection::count_videos() {
    std::string text;
    return query_text(db_, "SELECT count(*) FROM videos", text) ? std::atoll(text.c_str()) : -1;
}

std::shared_ptr<CacheStore> CacheStore::open(const CacheOptions& options, std::string* error) {
    std::shared_ptr<CacheStore> store(new CacheStore(options));
    // The first connection migrates and checks the file; a damaged file is rebuilt once.
    for (int attempt = 0; attempt < 2; ++attempt) {
        std::string local_error;
        sqlite3* db = nullptr;
        int rc = sqlite3_open_v2(options.path.c_str(), &db,
                                 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
        bool damaged = is_damage(rc);
        if (rc == SQLITE_OK) {
            sqlite3_extended_result_codes(db, 1);
            set_busy_wait(db, 5000);
            std::string check;
            // journal_mode is the first statement to read the header: a non-database fails here.
            if (!exec(db, "PRAGMA journal_mode=WAL", &local_error)) {
                damaged = is_damage(sqlite3_errcode(db));
            } else if (!query_text(db, "PRAGMA quick_check", check)) {
                local_error = sqlite3_errmsg(db);
                damaged = is_damage(sqlite3_errcode(db));
            } else if (check != "ok") {
                local_error = "quick_check: " + check;
                damaged = true;
            } else if (!migrate(db, &local_error)) {
                damaged = is_damage(sqlite3_errcode(db));
            } else {
                sqlite3_close_v2(db);
                auto conn = store->connect(&local_error);
                if (conn) {
                    store->release(std::move(conn));
                    return store;
                }
                db = nullptr;
            }
        } else {
            local_error = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
        }
        if (db) sqlite3_close_v2(db);
        if (!damaged || attempt == 1) {
            if (error) *error = options.path + ": " + local_error;
            return nullptr;
        }
        move_aside(options.path);
        store->rebuilt_ = true;
    }
    return nullptr;
}

std::unique_ptr<CacheConnection> CacheStore::connect(std::string* error) {
    sqlite3* db = nullptr;
    int rc = sqlite3_open_v2(options_.path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
        if (error) *error = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
        sqlite3_close_v2(db);
        return nullptr;
    }
    sqlite3_extended_result_codes(db, 1);
    set_busy_wait(db, 5000);
    std::unique_ptr<CacheConnection> conn(new CacheConnection(db));
    std::string pragmas =
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA temp_store=MEMORY; "
        // One process per host checkpoints (the refresh lease holder): SQLite 3.40's WAL-reset
        // race needs several connections writing and checkpointing at once.
        "PRAGMA wal_autocheckpoint=0; "
        "PRAGMA mmap_size=" + std::to_string(options_.mmap_size) + ";";
    if (!exec(db, pragmas.c_str(), error) || !conn->prepare(error)) return nullptr;
    std::lock_guard lock(mutex_);
    ++open_count_;
    return conn;
}

CacheStore::Lease CacheStore::acquire(std::string* error) {
    {
        std::lock_guard lock(mutex_);
        if (!idle_.empty()) {
            auto conn = std::move(idle_.back());
            idle_.pop_back();
            return Lease(this, std::move(conn));
        }
    }
    return Lease(this, connect(error));
}

void CacheStore::release(std::unique_ptr<CacheConnection> conn) {
    std::lock_guard lock(mutex_);
    // Connections beyond the pool size were opened for a burst; close them now.
    if (static_cast<int>(idle_.size()) < options_.pool_size) {
        idle_.push_back(std::move(conn));
        return;
    }
    --open_count_;
    conn.reset();
}

int CacheStore::open_connections() const {
    std::lock_guard lock(mutex_);
    return open_count_;
}

int CacheStore::idle_connections() const {
    std::lock_guard lock(mutex_);
    return static_cast<int>(idle_.size());
}

namespace {

std::mutex& registry_mutex() {
    static std::mutex m;
    return m;
}

std::vector<CacheStore*>& registry() {
    static auto* stores = new std::vector<CacheStore*>();
    return *stores;
}

}  // namespace

CacheStore::CacheStore(CacheOptions options) : options_(std::move(options)) {
    std::lock_guard lock(registry_mutex());
    registry().push_back(this);
}

CacheStore::~CacheStore() {
    std::lock_guard lock(registry_mutex());
    auto& stores = registry();
    stores.erase(std::remove(stores.begin(), stores.end(), this), stores.end());
}

void CacheStore::close_idle_connections_everywhere() {
    std::lock_guard registry_lock(registry_mutex());
    for (CacheStore* store : registry()) {
        std::lock_guard lock(store->mutex_);
        store->open_count_ -= static_cast<int>(store->idle_.size());
        store->idle_.clear();
    }
}

}  // namespace vault_metadata
