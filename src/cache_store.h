// The SQLite cache of video metadata: one file shared by every worker of the host.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "video_meta.h"

struct sqlite3;
struct sqlite3_stmt;

namespace vault_metadata {

struct CacheOptions {
    std::string path;
    int pool_size = 4;
    // 0 disables memory-mapped I/O: SQLite 3.40 has a WAL-reset race that a large
    // mapping turns into structural corruption when several processes write.
    int64_t mmap_size = 0;
};

// One connection with its statements prepared once; used by one thread at a time.
class CacheConnection {
public:
    ~CacheConnection();
    CacheConnection(const CacheConnection&) = delete;
    CacheConnection& operator=(const CacheConnection&) = delete;

    // The row of one video, or nullopt when absent. A payload that no longer decodes
    // counts as absent so that it gets refetched instead of poisoning every answer.
    std::optional<VideoMeta> find_video(std::string_view video_id, bool* error);
    // When YouTube last omitted this id, or nullopt.
    std::optional<int64_t> negative_checked_at(std::string_view video_id, bool* error);

    // Writes one fetch round in a single BEGIN IMMEDIATE transaction: the items
    // returned, and the ids YouTube omitted (which lose any stored row).
    bool write_fetch_results(const std::vector<VideoMeta>& items,
                             const std::vector<std::string>& omitted_ids, int64_t now,
                             std::string* error);

    int64_t count_videos();
    sqlite3* handle() const noexcept { return db_; }

private:
    friend class CacheStore;
    explicit CacheConnection(sqlite3* db) : db_(db) {}
    bool prepare(std::string* error);

    sqlite3* db_;
    sqlite3_stmt* select_video_ = nullptr;
    sqlite3_stmt* select_negative_ = nullptr;
    sqlite3_stmt* upsert_video_ = nullptr;
    sqlite3_stmt* delete_video_ = nullptr;
    sqlite3_stmt* upsert_negative_ = nullptr;
    sqlite3_stmt* delete_negative_ = nullptr;
};

// A small pool of connections to one cache file.
class CacheStore {
public:
    // Opens (creating and migrating if needed) the cache. A file that is not a database
    // or fails quick_check is moved aside and rebuilt: the cache can always be refetched.
    static std::shared_ptr<CacheStore> open(const CacheOptions& options, std::string* error);
    ~CacheStore();

    class Lease {
    public:
        Lease(CacheStore* store, std::unique_ptr<CacheConnection> conn)
            : store_(store), conn_(std::move(conn)) {}
        Lease(Lease&&) = default;
        ~Lease() {
            if (conn_) store_->release(std::move(conn_));
        }
        CacheConnection* operator->() const noexcept { return conn_.get(); }
        explicit operator bool() const noexcept { return conn_ != nullptr; }

    private:
        CacheStore* store_;
        std::unique_ptr<CacheConnection> conn_;
    };

    // A connection for the calling thread; an empty lease when none can be opened.
    Lease acquire(std::string* error = nullptr);

    const CacheOptions& options() const noexcept { return options_; }
    int open_connections() const;
    int idle_connections() const;
    // True when the last migration rebuilt a damaged file.
    bool was_rebuilt() const noexcept { return rebuilt_; }

    static constexpr int kSchemaVersion = 1;

private:
    explicit CacheStore(CacheOptions options) : options_(std::move(options)) {}
    std::unique_ptr<CacheConnection> connect(std::string* error);
    void release(std::unique_ptr<CacheConnection> conn);

    CacheOptions options_;
    mutable std::mutex mutex_;
    std::vector<std::unique_ptr<CacheConnection>> idle_;
    int open_count_ = 0;
    bool rebuilt_ = false;
};

}  // namespace vault_metadata
