/* The per-process cache of finished item arrays: the warm path's shortcut.
 *
 * A fresh item is kept as an immutable persistent array (the way opcache keeps literal
 * arrays), so that a warm call hands PHP the same array again instead of decoding and
 * rebuilding it: no SQLite read, no allocation per id. It lives in the glue because what
 * it holds are Zend arrays; what is fresh is still the core's rule (edge_ttl, max_age).
 *
 * Safety: the arrays and their strings are not reference-counted (like interned strings),
 * so request code may hold them anywhere; an entry that is replaced or evicted is only
 * freed after the request ends. NTS only: under ZTS the cache stays off. */
#ifndef VAULT_METADATA_LOCAL_CACHE_H
#define VAULT_METADATA_LOCAL_CACHE_H

#include "php_vault_metadata.h"

#include <cstdint>
#include <string>
#include <string_view>

#include "video_meta.h"

namespace vault_metadata_php {

struct LocalEntry;

/* Freshness is re-checked against SQLite this often, so a row another worker refreshed
 * (or the negative cache removed) is seen within this many seconds. */
inline constexpr int64_t kLocalRevalidateSeconds = 2;

/* An item array for this request only (stale items, and everything when the cache is off). */
void build_request_item(zval* out, const vault_metadata::VideoMeta& meta, int64_t ttl, bool stale);

/* Binds the cache to a database file and a size; changing either empties it. */
void local_cache_configure(const std::string& db_path, zend_long max_items);
/* The entry of a fresh row checked recently, or null. */
const LocalEntry* local_cache_find(std::string_view video_id, int64_t now, int64_t max_age);
/* Keeps a row served fresh or just fetched; returns its entry, or null when the cache is off. */
const LocalEntry* local_cache_store(const vault_metadata::VideoMeta& meta, int64_t now);
/* Drops the entry of an id that is no longer fresh here (served stale, or gone upstream). */
void local_cache_forget(std::string_view video_id);
/* Marks an entry checked against the cache now (its row did not change). */
void local_cache_touch(const LocalEntry* entry, int64_t now);
/* The item for this call: the immutable array when its ttl fits, else a copy with the ttl set. */
void local_cache_item(const LocalEntry* entry, int64_t now, int64_t max_age, zval* out);
/* Adds the item under the entry's id (an integer key when the id is all digits). */
void local_cache_add_to(HashTable* result, const LocalEntry* entry, zval* item);
int64_t local_cache_fetched_at(const LocalEntry* entry);
const vault_metadata::VideoMeta& local_cache_meta(const LocalEntry* entry);

/* After a request: frees what was replaced or evicted during it. */
void local_cache_release_retired();
/* Module shutdown: frees everything. */
void local_cache_shutdown();

}  // namespace vault_metadata_php

#endif
