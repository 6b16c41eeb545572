#include "local_cache.h"

#include <algorithm>
#include <cstring>
#include <deque>
#include <memory>
#include <unordered_map>
#include <vector>

#include "distinct_ids.h"
#include "ttl_policy.h"

namespace vault_metadata_php {

using vault_metadata::VideoMeta;

/* Persistent, non-refcounted strings and arrays owned by one entry. */
struct SharedParts {
    std::vector<zend_string*> strings;
    std::vector<HashTable*> arrays;

    ~SharedParts() {
        for (HashTable* ht : arrays) {
            pefree(HT_GET_DATA_ADDR(ht), 1);
            pefree(ht, 1);
        }
        for (zend_string* s : strings) pefree(s, 1);
    }
};

struct LocalEntry {
    VideoMeta meta;
    int64_t validated_at = 0;
    zend_string* key = nullptr;   // the id, for the result array
    bool numeric_key = false;     // an all-digit id is an integer key (PHP's array rule)
    zend_ulong numeric_index = 0;
    HashTable* item = nullptr;    // immutable; its ttl is right for (built_now, built_max_age)
    int64_t built_now = 0;
    int64_t built_max_age = 0;
    SharedParts parts;
};

namespace {

struct State {
    std::string db_path;
    zend_long max_items = 0;
    std::unordered_map<std::string, std::unique_ptr<LocalEntry>, vault_metadata::IdHash, std::equal_to<>> entries;
    std::deque<std::string> insertion_order;
    std::vector<std::unique_ptr<LocalEntry>> retired;
    std::vector<HashTable*> retired_items;  // replaced item arrays (their strings stay with the entry)
    bool off_for_request = false;
};

State& state() {
    static State* s = new State();  // never destroyed: freed by hand in local_cache_shutdown()
    return *s;
}

bool enabled() {
#ifdef ZTS
    return false;
#else
    return state().max_items > 0 && !state().off_for_request;
#endif
}

zend_string* shared_string(SharedParts& parts, const std::string& value) {
    if (value.empty()) return zend_empty_string;
    zend_string* s = zend_string_init(value.data(), value.size(), 1);
    zend_string_hash_val(s);
    // Not reference-counted, like an interned string that outlives the request: request
    // code copies it by pointer and never frees it; this cache frees it between requests.
    GC_TYPE_INFO(s) = GC_STRING | ((IS_STR_INTERNED | IS_STR_PERSISTENT | IS_STR_PERMANENT) << GC_FLAGS_SHIFT);
    parts.strings.push_back(s);
    return s;
}

HashTable* shared_array(SharedParts& parts, uint32_t size, bool packed) {
    auto* ht = static_cast<HashTable*>(pemalloc(sizeof(HashTable), 1));
    zend_hash_init(ht, size, nullptr, nullptr, 1);
    if (packed) {
        zend_hash_real_init_packed(ht);
    } else {
        zend_hash_real_init_mixed(ht);
    }
    parts.arrays.push_back(ht);
    return ht;
}

void make_immutable(HashTable* ht, zval* zv) {
    GC_SET_REFCOUNT(ht, 2);
    GC_ADD_FLAGS(ht, IS_ARRAY_IMMUTABLE | GC_NOT_COLLECTABLE);
    ZVAL_ARR(zv, ht);
    Z_TYPE_FLAGS_P(zv) = 0;  // not refcounted: copies share it, writes separate
}

/* Builds an item either as a request array (parts == null) or as a shared immutable one. */
void build_item(zval* out, const VideoMeta& m, int64_t ttl, bool stale, SharedParts* parts) {
    HashTable* ht;
    if (parts) {
        ht = shared_array(*parts, VM_KEY_COUNT, false);
    } else {
        array_init_size(out, VM_KEY_COUNT);
        ht = Z_ARRVAL_P(out);
    }
    auto put = [ht](int key, zval* value) { zend_hash_add_new(ht, php_vault_metadata_item_keys[key], value); };
    auto put_string = [&](int key, const std::string& value) {
        zval zv;
        if (parts) {
            ZVAL_INTERNED_STR(&zv, shared_string(*parts, value));
        } else {
            ZVAL_STRINGL_FAST(&zv, value.data(), value.size());
        }
        put(key, &zv);
    };
    auto put_long = [&](int key, int64_t value) {
        zval zv;
        ZVAL_LONG(&zv, value);
        put(key, &zv);
    };
    auto put_optional_long = [&](int key, const std::optional<int64_t>& value) {
        zval zv;
        if (value) {
            ZVAL_LONG(&zv, *value);
        } else {
            ZVAL_NULL(&zv);
        }
        put(key, &zv);
    };
    auto put_bool = [&](int key, bool value) {
        zval zv;
        ZVAL_BOOL(&zv, value);
        put(key, &zv);
    };
    auto put_list = [&](int key, const std::vector<std::string>& values) {
        zval list;
        if (values.empty()) {
            ZVAL_EMPTY_ARRAY(&list);
        } else if (parts) {
            HashTable* inner = shared_array(*parts, static_cast<uint32_t>(values.size()), true);
            for (const std::string& v : values) {
                zval zv;
                ZVAL_INTERNED_STR(&zv, shared_string(*parts, v));
                zend_hash_next_index_insert_new(inner, &zv);
            }
            make_immutable(inner, &list);
        } else {
            array_init_size(&list, static_cast<uint32_t>(values.size()));
            for (const std::string& v : values) add_next_index_stringl(&list, v.data(), v.size());
        }
        put(key, &list);
    };
    auto put_null = [&](int key) {
        zval zv;
        ZVAL_NULL(&zv);
        put(key, &zv);
    };

    put_string(VM_KEY_VIDEO_ID, m.video_id);
    put_string(VM_KEY_TITLE, m.title);
    put_string(VM_KEY_CHANNEL_ID, m.channel_id);
    put_string(VM_KEY_CHANNEL_TITLE, m.channel_title);
    if (m.channel_handle) {
        put_string(VM_KEY_CHANNEL_HANDLE, *m.channel_handle);
    } else {
        put_null(VM_KEY_CHANNEL_HANDLE);
    }
    put_long(VM_KEY_PUBLISHED_AT, m.published_at);
    put_long(VM_KEY_DURATION_SECONDS, m.duration_seconds);
    put_optional_long(VM_KEY_VIEW_COUNT, m.view_count);
    put_optional_long(VM_KEY_LIKE_COUNT, m.like_count);
    put_optional_long(VM_KEY_COMMENT_COUNT, m.comment_count);
    put_string(VM_KEY_CATEGORY_ID, m.category_id);
    put_string(VM_KEY_LIVE_BROADCAST_CONTENT, m.live_broadcast_content);
    put_bool(VM_KEY_AGE_RESTRICTED, m.age_restricted);
    put_bool(VM_KEY_LICENSED_CONTENT, m.licensed_content);
    put_bool(VM_KEY_EMBEDDABLE, m.embeddable);
    put_bool(VM_KEY_MADE_FOR_KIDS, m.made_for_kids);
    put_string(VM_KEY_PRIVACY_STATUS, m.privacy_status);
    if (m.allowed_countries) {
        put_list(VM_KEY_ALLOWED_COUNTRIES, *m.allowed_countries);
    } else {
        put_null(VM_KEY_ALLOWED_COUNTRIES);
    }
    put_list(VM_KEY_BLOCKED_COUNTRIES, m.blocked_countries);
    put_long(VM_KEY_TTL, ttl);
    put_long(VM_KEY_FETCHED_AT, m.fetched_at);
    put_bool(VM_KEY_STALE, stale);
    if (parts) make_immutable(ht, out);
}

void check_retired_bound() {
    State& s = state();
    // A long CLI request that keeps replacing items would grow without bound, since
    // nothing retired can be freed before the request ends: stop caching until then.
    const auto retired = static_cast<zend_long>(s.retired.size() + s.retired_items.size());
    if (retired > std::max<zend_long>(4096, 4 * s.max_items)) s.off_for_request = true;
}

void retire(std::unique_ptr<LocalEntry> entry) {
    state().retired.push_back(std::move(entry));
    check_retired_bound();
}

void free_item_table(HashTable* ht) {
    pefree(HT_GET_DATA_ADDR(ht), 1);
    pefree(ht, 1);
}

// A persistent copy of an immutable item with another ttl: the buckets are copied, the
// strings and lists they point to stay shared (the entry owns them).
HashTable* copy_with_ttl(HashTable* item, int64_t ttl) {
    auto* copy = static_cast<HashTable*>(pemalloc(sizeof(HashTable), 1));
    std::memcpy(copy, item, sizeof(HashTable));
    void* data = pemalloc(HT_SIZE(item), 1);
    std::memcpy(data, HT_GET_DATA_ADDR(item), HT_SIZE(item));
    HT_SET_DATA_ADDR(copy, data);
    ZVAL_LONG(zend_hash_find_known_hash(copy, php_vault_metadata_item_keys[VM_KEY_TTL]), ttl);
    return copy;
}

void retire_all() {
    State& s = state();
    for (auto& [id, entry] : s.entries) s.retired.push_back(std::move(entry));
    s.entries.clear();
    s.insertion_order.clear();
}

}  // namespace

void build_request_item(zval* out, const VideoMeta& meta, int64_t ttl, bool stale) {
    build_item(out, meta, ttl, stale, nullptr);
}

void local_cache_configure(const std::string& db_path, zend_long max_items) {
    State& s = state();
    if (s.db_path == db_path && s.max_items == max_items) return;
    retire_all();
    s.db_path = db_path;
    s.max_items = max_items;
}

const LocalEntry* local_cache_find(std::string_view video_id, int64_t now, int64_t max_age) {
    if (!enabled()) return nullptr;
    State& s = state();
    auto found = s.entries.find(video_id);
    if (found == s.entries.end()) return nullptr;
    const LocalEntry* e = found->second.get();
    if (now - e->meta.fetched_at >= max_age || now - e->validated_at >= kLocalRevalidateSeconds ||
        now < e->validated_at) {
        return nullptr;
    }
    return e;
}

const LocalEntry* local_cache_store(const VideoMeta& meta, int64_t now) {
    if (!enabled()) return nullptr;
    State& s = state();
    auto found = s.entries.find(std::string_view(meta.video_id));
    if (found != s.entries.end()) {
        if (found->second->meta == meta) {
            found->second->validated_at = now;
            return found->second.get();
        }
        retire(std::move(found->second));
        s.entries.erase(found);
    } else {
        while (!s.insertion_order.empty() && static_cast<zend_long>(s.entries.size()) >= s.max_items) {
            auto oldest = s.entries.find(std::string_view(s.insertion_order.front()));
            s.insertion_order.pop_front();
            if (oldest == s.entries.end()) continue;
            retire(std::move(oldest->second));
            s.entries.erase(oldest);
        }
        s.insertion_order.push_back(meta.video_id);
    }
    if (s.off_for_request) return nullptr;

    auto entry = std::make_unique<LocalEntry>();
    entry->meta = meta;
    entry->validated_at = now;
    entry->key = shared_string(entry->parts, meta.video_id);
    entry->numeric_key = ZEND_HANDLE_NUMERIC_STR(ZSTR_VAL(entry->key), ZSTR_LEN(entry->key), entry->numeric_index);
    LocalEntry* raw = entry.get();
    s.entries.emplace(meta.video_id, std::move(entry));
    return raw;
}

void local_cache_forget(std::string_view video_id) {
    State& s = state();
    auto found = s.entries.find(video_id);
    if (found == s.entries.end()) return;
    retire(std::move(found->second));
    s.entries.erase(found);
}

void local_cache_touch(const LocalEntry* entry, int64_t now) {
    const_cast<LocalEntry*>(entry)->validated_at = now;
}

void local_cache_item(const LocalEntry* entry, int64_t now, int64_t max_age, zval* out) {
    auto* e = const_cast<LocalEntry*>(entry);
    if (!e->item || e->built_now != now || e->built_max_age != max_age) {
        const int64_t ttl = vault_metadata::edge_ttl(e->meta, max_age, now, false);
        if (!e->item) {
            zval built;
            build_item(&built, e->meta, ttl, false, &e->parts);
            e->item = Z_ARRVAL(built);
        } else if (Z_LVAL_P(zend_hash_find_known_hash(e->item, php_vault_metadata_item_keys[VM_KEY_TTL])) != ttl) {
            State& s = state();
            if (s.off_for_request) {
                // Nothing more may be retired this request: a request copy with its own ttl.
                ZVAL_ARR(out, zend_array_dup(e->item));
                ZVAL_LONG(zend_hash_find_known_hash(Z_ARRVAL_P(out), php_vault_metadata_item_keys[VM_KEY_TTL]), ttl);
                return;
            }
            // The old array may still be held by this request: it is freed after it.
            HashTable* replaced = e->item;
            e->item = copy_with_ttl(replaced, ttl);
            if (!e->parts.arrays.empty() && e->parts.arrays.front() == replaced) {
                e->parts.arrays.front() = e->item;  // the entry owns the current array
            } else {
                auto owned = std::find(e->parts.arrays.begin(), e->parts.arrays.end(), replaced);
                if (owned != e->parts.arrays.end()) *owned = e->item;
            }
            s.retired_items.push_back(replaced);
            check_retired_bound();
        }
        e->built_now = now;
        e->built_max_age = max_age;
    }
    ZVAL_ARR(out, e->item);
    Z_TYPE_FLAGS_P(out) = 0;
}

void local_cache_add_to(HashTable* result, const LocalEntry* entry, zval* item) {
    if (entry->numeric_key) {
        zend_hash_index_update(result, entry->numeric_index, item);
    } else {
        zend_hash_update(result, entry->key, item);
    }
}

int64_t local_cache_fetched_at(const LocalEntry* entry) {
    return entry->meta.fetched_at;
}

const VideoMeta& local_cache_meta(const LocalEntry* entry) {
    return entry->meta;
}

void local_cache_release_retired() {
    State& s = state();
    s.retired.clear();
    for (HashTable* ht : s.retired_items) free_item_table(ht);
    s.retired_items.clear();
    s.off_for_request = false;
}

void local_cache_shutdown() {
    retire_all();
    local_cache_release_retired();
}

}  // namespace vault_metadata_php
