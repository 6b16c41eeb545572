/* The PHP functions: validate the arguments, ask the engine, turn its plain C++ answer
 * into arrays. Every decision about caching and fetching is the core's. */

#include "php_vault_metadata.h"

extern "C" {
#include "main/php_open_temporary_file.h"
#include "zend_exceptions.h"
}

#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "correlation_id.h"
#include "engine.h"
#include "ttl_policy.h"
#include "youtube_api.h"

zend_string* php_vault_metadata_item_keys[VM_KEY_COUNT];

void php_vault_metadata_register_item_keys(void) {
    static const char* const names[VM_KEY_COUNT] = {
        "video_id",         "title",          "channel_id",       "channel_title",
        "channel_handle",   "published_at",   "duration_seconds", "view_count",
        "like_count",       "comment_count",  "category_id",      "live_broadcast_content",
        "age_restricted",   "licensed_content", "embeddable",     "made_for_kids",
        "privacy_status",   "allowed_countries", "blocked_countries", "ttl",
        "fetched_at",       "stale",
    };
    for (int i = 0; i < VM_KEY_COUNT; ++i) {
        php_vault_metadata_item_keys[i] = zend_string_init_interned(names[i], strlen(names[i]), 1);
    }
}

namespace {

using vault_metadata::BatchAnswer;
using vault_metadata::Served;
using vault_metadata::ServedItem;
using vault_metadata::VideoMeta;

/* The settings of this request, read from INI every call so that ini_set() works. */
vault_metadata::EngineSettings current_settings() {
    vault_metadata::EngineSettings s;
    s.enabled = VAULT_METADATA_G(enabled);
    const char* db_path = VAULT_METADATA_G(db_path);
    if (db_path && db_path[0]) {
        s.db_path = db_path;
    } else {
        const char* tmp = php_get_temporary_directory();
        s.db_path = std::string(tmp ? tmp : "/tmp") + "/vault_metadata.sqlite";
    }
    const char* quota_path = VAULT_METADATA_G(quota_path);
    s.quota_path = quota_path && quota_path[0] ? std::string(quota_path) : s.db_path + ".quota";
    s.api_key = vault_metadata::effective_api_key(VAULT_METADATA_G(api_key) ? VAULT_METADATA_G(api_key) : "");
    std::string base = VAULT_METADATA_G(api_base) ? VAULT_METADATA_G(api_base) : "";
    while (!base.empty() && base.back() == '/') base.pop_back();
    s.api_base = base.empty() ? vault_metadata::kDefaultApiBase : base;
    s.upstream_timeout_ms = VAULT_METADATA_G(upstream_timeout_ms);
    s.negative_ttl = VAULT_METADATA_G(negative_ttl);
    s.quota_daily_units = VAULT_METADATA_G(quota_daily_units);
    s.pool_size = VAULT_METADATA_G(pool_size);
    s.mmap_size = VAULT_METADATA_G(mmap_size);
    s.max_age = VAULT_METADATA_G(max_age);
    s.refresh_interval = VAULT_METADATA_G(refresh_interval);
    s.refresh_budget_units = VAULT_METADATA_G(refresh_budget_units);
    s.quota_backend = VAULT_METADATA_G(quota_backend) ? VAULT_METADATA_G(quota_backend) : "sqlite";
    return s;
}

/* "key 3" or "key \"name\"", for messages that point at an element of an input array. */
std::string describe_key(zend_ulong num_key, zend_string* str_key) {
    if (!str_key) return "key " + std::to_string(num_key);
    return "key \"" + std::string(ZSTR_VAL(str_key), std::min<size_t>(ZSTR_LEN(str_key), 64)) + "\"";
}

/* A value quoted for an error message: bounded, and without control bytes. */
std::string quote_for_message(const char* value, size_t len) {
    std::string out = "\"";
    for (size_t i = 0; i < len && i < 40; ++i) {
        unsigned char c = static_cast<unsigned char>(value[i]);
        out += (c < 0x20 || c == 0x7f) ? '?' : static_cast<char>(c);
    }
    if (len > 40) out += "...";
    return out + "\"";
}

/* Validates the ids argument; fills `ids` with the distinct ids in order of first
 * appearance. Throws and returns false on bad input. */
bool collect_video_ids(HashTable* input, std::vector<std::string>& ids) {
    zend_ulong num_key;
    zend_string* str_key;
    zval* entry;
    std::unordered_set<std::string_view> seen;
    ids.reserve(zend_hash_num_elements(input));
    ZEND_HASH_FOREACH_KEY_VAL(input, num_key, str_key, entry) {
        ZVAL_DEREF(entry);
        if (Z_TYPE_P(entry) != IS_STRING) {
            zend_argument_type_error(1, "must contain only strings, %s given at %s", zend_zval_type_name(entry),
                                     describe_key(num_key, str_key).c_str());
            return false;
        }
        std::string_view id(Z_STRVAL_P(entry), Z_STRLEN_P(entry));
        if (!vault_metadata::is_valid_video_id(id)) {
            zend_argument_value_error(1,
                                      "must contain only YouTube video ids (11 characters of A-Za-z0-9_-), "
                                      "%s given at %s",
                                      quote_for_message(id.data(), id.size()).c_str(),
                                      describe_key(num_key, str_key).c_str());
            return false;
        }
        /* The views point into the input array, which outlives this function's use. */
        if (seen.insert(id).second) ids.emplace_back(id);
    }
    ZEND_HASH_FOREACH_END();
    if (static_cast<zend_long>(ids.size()) > VAULT_METADATA_G(max_batch)) {
        zend_argument_value_error(1, "must contain at most " ZEND_LONG_FMT " distinct video ids (vault_metadata.max_batch), %zu given",
                                  VAULT_METADATA_G(max_batch), ids.size());
        return false;
    }
    return true;
}

bool read_int_option(zval* value, const char* name, int64_t& out) {
    if (Z_TYPE_P(value) != IS_LONG) {
        zend_argument_type_error(2, "option \"%s\" must be of type int, %s given", name, zend_zval_type_name(value));
        return false;
    }
    if (Z_LVAL_P(value) < 0) {
        zend_argument_value_error(2, "option \"%s\" must be greater than or equal to 0", name);
        return false;
    }
    out = Z_LVAL_P(value);
    return true;
}

bool parse_options(HashTable* input, vault_metadata::FetchOptions& options) {
    options.max_age = VAULT_METADATA_G(max_age);
    options.timeout_ms = VAULT_METADATA_G(fetch_timeout_ms);
    options.allow_stale = true;
    if (!input) return true;
    zend_ulong num_key;
    zend_string* str_key;
    zval* value;
    ZEND_HASH_FOREACH_KEY_VAL(input, num_key, str_key, value) {
        ZVAL_DEREF(value);
        if (!str_key) {
            zend_argument_value_error(2, "contains an unknown option at key " ZEND_ULONG_FMT
                                         " (known: max_age, timeout_ms, allow_stale)", num_key);
            return false;
        }
        if (zend_string_equals_literal(str_key, "max_age")) {
            if (!read_int_option(value, "max_age", options.max_age)) return false;
        } else if (zend_string_equals_literal(str_key, "timeout_ms")) {
            if (!read_int_option(value, "timeout_ms", options.timeout_ms)) return false;
        } else if (zend_string_equals_literal(str_key, "allow_stale")) {
            if (Z_TYPE_P(value) != IS_TRUE && Z_TYPE_P(value) != IS_FALSE) {
                zend_argument_type_error(2, "option \"allow_stale\" must be of type bool, %s given",
                                         zend_zval_type_name(value));
                return false;
            }
            options.allow_stale = Z_TYPE_P(value) == IS_TRUE;
        } else {
            zend_argument_value_error(2, "contains an unknown option %s (known: max_age, timeout_ms, allow_stale)",
                                      quote_for_message(ZSTR_VAL(str_key), ZSTR_LEN(str_key)).c_str());
            return false;
        }
    }
    ZEND_HASH_FOREACH_END();
    return true;
}

void add_string(HashTable* ht, int key, const std::string& value) {
    zval zv;
    ZVAL_STRINGL_FAST(&zv, value.data(), value.size());
    zend_hash_add_new(ht, php_vault_metadata_item_keys[key], &zv);
}

void add_long(HashTable* ht, int key, int64_t value) {
    zval zv;
    ZVAL_LONG(&zv, value);
    zend_hash_add_new(ht, php_vault_metadata_item_keys[key], &zv);
}

void add_optional_long(HashTable* ht, int key, const std::optional<int64_t>& value) {
    zval zv;
    if (value) {
        ZVAL_LONG(&zv, *value);
    } else {
        ZVAL_NULL(&zv);
    }
    zend_hash_add_new(ht, php_vault_metadata_item_keys[key], &zv);
}

void add_bool(HashTable* ht, int key, bool value) {
    zval zv;
    ZVAL_BOOL(&zv, value);
    zend_hash_add_new(ht, php_vault_metadata_item_keys[key], &zv);
}

void add_string_list(HashTable* ht, int key, const std::vector<std::string>& values) {
    zval list;
    array_init_size(&list, static_cast<uint32_t>(values.size()));
    for (const std::string& value : values) add_next_index_stringl(&list, value.data(), value.size());
    zend_hash_add_new(ht, php_vault_metadata_item_keys[key], &list);
}

void build_item(zval* out, const ServedItem& served, int64_t max_age, int64_t now) {
    const VideoMeta& m = served.meta;
    const bool stale = served.how == Served::stale;
    array_init_size(out, VM_KEY_COUNT);
    HashTable* ht = Z_ARRVAL_P(out);
    add_string(ht, VM_KEY_VIDEO_ID, m.video_id);
    add_string(ht, VM_KEY_TITLE, m.title);
    add_string(ht, VM_KEY_CHANNEL_ID, m.channel_id);
    add_string(ht, VM_KEY_CHANNEL_TITLE, m.channel_title);
    if (m.channel_handle) {
        add_string(ht, VM_KEY_CHANNEL_HANDLE, *m.channel_handle);
    } else {
        zval null_value;
        ZVAL_NULL(&null_value);
        zend_hash_add_new(ht, php_vault_metadata_item_keys[VM_KEY_CHANNEL_HANDLE], &null_value);
    }
    add_long(ht, VM_KEY_PUBLISHED_AT, m.published_at);
    add_long(ht, VM_KEY_DURATION_SECONDS, m.duration_seconds);
    add_optional_long(ht, VM_KEY_VIEW_COUNT, m.view_count);
    add_optional_long(ht, VM_KEY_LIKE_COUNT, m.like_count);
    add_optional_long(ht, VM_KEY_COMMENT_COUNT, m.comment_count);
    add_string(ht, VM_KEY_CATEGORY_ID, m.category_id);
    add_string(ht, VM_KEY_LIVE_BROADCAST_CONTENT, m.live_broadcast_content);
    add_bool(ht, VM_KEY_AGE_RESTRICTED, m.age_restricted);
    add_bool(ht, VM_KEY_LICENSED_CONTENT, m.licensed_content);
    add_bool(ht, VM_KEY_EMBEDDABLE, m.embeddable);
    add_bool(ht, VM_KEY_MADE_FOR_KIDS, m.made_for_kids);
    add_string(ht, VM_KEY_PRIVACY_STATUS, m.privacy_status);
    if (m.allowed_countries) {
        add_string_list(ht, VM_KEY_ALLOWED_COUNTRIES, *m.allowed_countries);
    } else {
        zval null_value;
        ZVAL_NULL(&null_value);
        zend_hash_add_new(ht, php_vault_metadata_item_keys[VM_KEY_ALLOWED_COUNTRIES], &null_value);
    }
    add_string_list(ht, VM_KEY_BLOCKED_COUNTRIES, m.blocked_countries);
    add_long(ht, VM_KEY_TTL, vault_metadata::edge_ttl(m, max_age, now, stale));
    add_long(ht, VM_KEY_FETCHED_AT, m.fetched_at);
    add_bool(ht, VM_KEY_STALE, stale);
}

/* Shared by both fetch functions: validation, then the engine. False when it threw. */
bool run_fetch(INTERNAL_FUNCTION_PARAMETERS, BatchAnswer& answer, vault_metadata::FetchOptions& options,
               bool& empty_input) {
    HashTable* video_ids;
    HashTable* options_table = nullptr;
    ZEND_PARSE_PARAMETERS_START(1, 2)
        Z_PARAM_ARRAY_HT(video_ids)
        Z_PARAM_OPTIONAL
        Z_PARAM_ARRAY_HT(options_table)
    ZEND_PARSE_PARAMETERS_END_EX(return false);

    std::vector<std::string> ids;
    if (!collect_video_ids(video_ids, ids) || !parse_options(options_table, options)) return false;
    empty_input = ids.empty();
    if (empty_input) return true;
    try {
        answer = vault_metadata::Engine::for_this_process().fetch_batch(ids, options, current_settings());
    } catch (...) {
        /* Out of memory or a library throwing: the page still renders, with nothing. */
        answer = BatchAnswer{};
        for (const std::string& id : ids) answer.missing.push_back(id);
    }
    php_vault_metadata_flush_log();
    return true;
}

}  // namespace

PHP_FUNCTION(vault_metadata_fetch_batch) {
    BatchAnswer answer;
    vault_metadata::FetchOptions options;
    bool empty_input = false;
    if (!run_fetch(INTERNAL_FUNCTION_PARAM_PASSTHRU, answer, options, empty_input)) RETURN_THROWS();
    array_init_size(return_value, static_cast<uint32_t>(answer.items.size()));
    for (const ServedItem& served : answer.items) {
        zval item;
        build_item(&item, served, options.max_age, answer.now);
        /* An id of digits only becomes an integer key, as PHP arrays always do. */
        zend_symtable_str_update(Z_ARRVAL_P(return_value), served.meta.video_id.data(), served.meta.video_id.size(),
                                 &item);
    }
}

PHP_FUNCTION(vault_metadata_fetch_batch_detailed) {
    BatchAnswer answer;
    vault_metadata::FetchOptions options;
    bool empty_input = false;
    if (!run_fetch(INTERNAL_FUNCTION_PARAM_PASSTHRU, answer, options, empty_input)) RETURN_THROWS();
    zval fresh, refreshed, stale, missing;
    array_init(&fresh);
    array_init(&refreshed);
    array_init(&stale);
    array_init_size(&missing, static_cast<uint32_t>(answer.missing.size()));
    for (const ServedItem& served : answer.items) {
        zval item;
        build_item(&item, served, options.max_age, answer.now);
        zval* list = served.how == Served::fresh ? &fresh : served.how == Served::refreshed ? &refreshed : &stale;
        add_next_index_zval(list, &item);
    }
    for (const std::string& id : answer.missing) add_next_index_stringl(&missing, id.data(), id.size());

    int64_t quota_remaining = 0;
    try {
        quota_remaining = vault_metadata::Engine::for_this_process().quota(current_settings()).remaining;
    } catch (...) {
    }
    std::string correlation_id = vault_metadata::new_correlation_id();

    array_init_size(return_value, 6);
    add_assoc_zval(return_value, "fresh", &fresh);
    add_assoc_zval(return_value, "stale_refreshed", &refreshed);
    add_assoc_zval(return_value, "stale", &stale);
    add_assoc_zval(return_value, "missing", &missing);
    add_assoc_long(return_value, "quota_remaining", quota_remaining);
    add_assoc_stringl(return_value, "correlation_id", correlation_id.data(), correlation_id.size());
    (void)empty_input;
}

PHP_FUNCTION(vault_metadata_available) {
    HashTable* item;
    zend_string* country;
    ZEND_PARSE_PARAMETERS_START(2, 2)
        Z_PARAM_ARRAY_HT(item)
        Z_PARAM_STR(country)
    ZEND_PARSE_PARAMETERS_END();

    if (ZSTR_LEN(country) != 2 || !isalpha(static_cast<unsigned char>(ZSTR_VAL(country)[0])) ||
        !isalpha(static_cast<unsigned char>(ZSTR_VAL(country)[1]))) {
        zend_argument_value_error(2, "must be an ISO 3166-1 alpha-2 country code (two letters), %s given",
                                  quote_for_message(ZSTR_VAL(country), ZSTR_LEN(country)).c_str());
        RETURN_THROWS();
    }
    zval* allowed = zend_hash_find(item, php_vault_metadata_item_keys[VM_KEY_ALLOWED_COUNTRIES]);
    zval* blocked = zend_hash_find(item, php_vault_metadata_item_keys[VM_KEY_BLOCKED_COUNTRIES]);
    if (allowed) ZVAL_DEREF(allowed);
    if (blocked) ZVAL_DEREF(blocked);
    if (!allowed || !blocked || (Z_TYPE_P(allowed) != IS_NULL && Z_TYPE_P(allowed) != IS_ARRAY) ||
        Z_TYPE_P(blocked) != IS_ARRAY) {
        zend_argument_value_error(1, "must be an item with \"allowed_countries\" (array or null) and "
                                     "\"blocked_countries\" (array) keys");
        RETURN_THROWS();
    }
    const char code[2] = {static_cast<char>(toupper(static_cast<unsigned char>(ZSTR_VAL(country)[0]))),
                          static_cast<char>(toupper(static_cast<unsigned char>(ZSTR_VAL(country)[1])))};
    auto names_country = [&code](HashTable* list) {
        zval* entry;
        ZEND_HASH_FOREACH_VAL(list, entry) {
            ZVAL_DEREF(entry);
            if (Z_TYPE_P(entry) == IS_STRING && Z_STRLEN_P(entry) == 2 &&
                toupper(static_cast<unsigned char>(Z_STRVAL_P(entry)[0])) == code[0] &&
                toupper(static_cast<unsigned char>(Z_STRVAL_P(entry)[1])) == code[1]) {
                return true;
            }
        }
        ZEND_HASH_FOREACH_END();
        return false;
    };
    if (names_country(Z_ARRVAL_P(blocked))) RETURN_FALSE;
    if (Z_TYPE_P(allowed) == IS_ARRAY && !names_country(Z_ARRVAL_P(allowed))) RETURN_FALSE;
    RETURN_TRUE;
}

PHP_FUNCTION(vault_metadata_prefetch) {
    HashTable* video_ids;
    ZEND_PARSE_PARAMETERS_START(1, 1)
        Z_PARAM_ARRAY_HT(video_ids)
    ZEND_PARSE_PARAMETERS_END();
    std::vector<std::string> ids;
    if (!collect_video_ids(video_ids, ids)) RETURN_THROWS();
    int64_t queued = 0;
    try {
        queued = vault_metadata::Engine::for_this_process().prefetch(ids, current_settings());
    } catch (...) {
    }
    php_vault_metadata_flush_log();
    RETURN_LONG(queued);
}

PHP_FUNCTION(vault_metadata_quota) {
    ZEND_PARSE_PARAMETERS_NONE();
    vault_metadata::QuotaView quota;
    try {
        quota = vault_metadata::Engine::for_this_process().quota(current_settings());
    } catch (...) {
        quota.limit = VAULT_METADATA_G(quota_daily_units);
    }
    php_vault_metadata_flush_log();
    array_init_size(return_value, 6);
    add_assoc_long(return_value, "limit", quota.limit);
    add_assoc_long(return_value, "used", quota.used);
    add_assoc_long(return_value, "remaining", quota.remaining);
    add_assoc_long(return_value, "resets_at", quota.resets_at);
    add_assoc_bool(return_value, "exhausted", quota.exhausted);
    add_assoc_stringl(return_value, "backend", quota.backend.data(), quota.backend.size());
}
