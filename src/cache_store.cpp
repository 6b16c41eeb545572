#include "cache_store.h"

#include <sqlite3.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>

#include "payload_codec.h"

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
};
static_assert(sizeof(kMigrations) / sizeof(kMigrations[0]) == CacheStore::kSchemaVersion);

// Many workers start at once: BEGIN IMMEDIATE serialises them, and the version is read
// again inside the transaction so only the first one migrates.
bool migrate(sqlite3* db, std::string* error) {
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
    for (sqlite3_stmt* stmt : {select_video_, select_negative_, upsert_video_, delete_video_,
                               upsert_negative_, delete_negative_}) {
        sqlite3_finalize(stmt);
    }
    sqlite3_close_v2(db_);
}

bool CacheConnection::prepare(std::string* error) {
    struct {
        sqlite3_stmt** stmt;
        const char* sql;
    } statements[] = {
        {&select_video_, "SELECT fetched_at, payload FROM videos WHERE video_id = ?1"},
        {&select_negative_, "SELECT checked_at FROM negative_ids WHERE video_id = ?1"},
        {&upsert_video_,
         "INSERT INTO videos (video_id, fetched_at, payload) VALUES (?1, ?2, ?3) "
         "ON CONFLICT (video_id) DO UPDATE SET fetched_at = excluded.fetched_at, payload = excluded.payload"},
        {&delete_video_, "DELETE FROM videos WHERE video_id = ?1"},
        {&upsert_negative_,
         "INSERT INTO negative_ids (video_id, checked_at) VALUES (?1, ?2) "
         "ON CONFLICT (video_id) DO UPDATE SET checked_at = excluded.checked_at"},
        {&delete_negative_, "DELETE FROM negative_ids WHERE video_id = ?1"},
    };
    for (auto& s : statements) {
        if (sqlite3_prepare_v3(db_, s.sql, -1, SQLITE_PREPARE_PERSISTENT, s.stmt, nullptr) != SQLITE_OK) {
            if (error) *error = sqlite3_errmsg(db_);
            return false;
        }
    }
    return true;
}

std::optional<VideoMeta> CacheConnection::find_video(std::string_view video_id, bool* error) {
    sqlite3_bind_text(select_video_, 1, video_id.data(), static_cast<int>(video_id.size()), SQLITE_STATIC);
    std::optional<VideoMeta> result;
    int rc = sqlite3_step(select_video_);
    if (rc == SQLITE_ROW) {
        VideoMeta meta;
        const void* blob = sqlite3_column_blob(select_video_, 1);
        int size = sqlite3_column_bytes(select_video_, 1);
        if (blob && decode_payload(static_cast<const char*>(blob), static_cast<size_t>(size), meta)) {
            meta.video_id.assign(video_id);
            meta.fetched_at = sqlite3_column_int64(select_video_, 0);
            result = std::move(meta);
        }
    } else if (rc != SQLITE_DONE && error) {
        *error = true;
    }
    sqlite3_reset(select_video_);
    sqlite3_clear_bindings(select_video_);
    return result;
}

std::optional<int64_t> CacheConnection::negative_checked_at(std::string_view video_id, bool* error) {
    sqlite3_bind_text(select_negative_, 1, video_id.data(), static_cast<int>(video_id.size()), SQLITE_STATIC);
    std::optional<int64_t> result;
    int rc = sqlite3_step(select_negative_);
    if (rc == SQLITE_ROW) {
        result = sqlite3_column_int64(select_negative_, 0);
    } else if (rc != SQLITE_DONE && error) {
        *error = true;
    }
    sqlite3_reset(select_negative_);
    sqlite3_clear_bindings(select_negative_);
    return result;
}

bool CacheConnection::write_fetch_results(const std::vector<VideoMeta>& items,
                                          const std::vector<std::string>& omitted_ids, int64_t now,
                                          std::string* error) {
    if (items.empty() && omitted_ids.empty()) return true;
    if (!exec(db_, "BEGIN IMMEDIATE", error)) return false;

    auto step_once = [&](sqlite3_stmt* stmt) {
        int rc = sqlite3_step(stmt);
        sqlite3_reset(stmt);
        sqlite3_clear_bindings(stmt);
        if (rc != SQLITE_DONE && error) *error = sqlite3_errmsg(db_);
        return rc == SQLITE_DONE;
    };

    bool ok = true;
    std::string payload;
    for (const VideoMeta& item : items) {
        payload = encode_payload(item);
        sqlite3_bind_text(upsert_video_, 1, item.video_id.data(), static_cast<int>(item.video_id.size()), SQLITE_STATIC);
        sqlite3_bind_int64(upsert_video_, 2, item.fetched_at);
        sqlite3_bind_blob(upsert_video_, 3, payload.data(), static_cast<int>(payload.size()), SQLITE_STATIC);
        sqlite3_bind_text(delete_negative_, 1, item.video_id.data(), static_cast<int>(item.video_id.size()), SQLITE_STATIC);
        if (!step_once(upsert_video_) || !step_once(delete_negative_)) {
            ok = false;
            break;
        }
    }
    for (size_t i = 0; ok && i < omitted_ids.size(); ++i) {
        const std::string& id = omitted_ids[i];
        sqlite3_bind_text(delete_video_, 1, id.data(), static_cast<int>(id.size()), SQLITE_STATIC);
        sqlite3_bind_text(upsert_negative_, 1, id.data(), static_cast<int>(id.size()), SQLITE_STATIC);
        sqlite3_bind_int64(upsert_negative_, 2, now);
        ok = step_once(delete_video_) && step_once(upsert_negative_);
    }
    if (ok) ok = exec(db_, "COMMIT", error);
    if (!ok) exec(db_, "ROLLBACK", nullptr);
    return ok;
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
            sqlite3_busy_timeout(db, 5000);
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
    sqlite3_busy_timeout(db, 5000);
    std::unique_ptr<CacheConnection> conn(new CacheConnection(db));
    std::string pragmas =
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA temp_store=MEMORY; "
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

CacheStore::~CacheStore() = default;

}  // namespace vault_metadata
