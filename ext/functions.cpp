/* The PHP functions: validate the arguments, ask the engine, turn its plain C++ answer
 * into arrays. Every decision about caching and fetching is the core's. */

#include "php_vault_metadata.h"

extern "C" {
#include "zend_exceptions.h"
}

#include <string>
#include <string_view>
#include <vector>

#include "correlation_id.h"
#include "distinct_ids.h"
#include "engine.h"
#include "fetch_pipeline.h"
#include "local_cache.h"
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

using vault_metadata::Served;
using vault_metadata_php::current_settings;
using vault_metadata_php::FetchOutcome;
using vault_metadata_php::Slot;

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
    vault_metadata::DistinctIds seen(zend_hash_num_elements(input));
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
        if (seen.insert(id)) ids.emplace_back(id);
    }
    ZEND_HASH_FOREACH_END();
    if (static_cast<zend_long>(ids.size()) > VAULT_METADATA_G(max_batch)) {
        zend_argument_value_error(1, "must contain at most " ZEND_LONG_FMT " distinct video ids (vault_metadata.max_batch), %zu given",
                                  VAULT_METADATA_G(max_batch), ids.size());
        return false;
    }
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
        bool known;
        if (!vault_metadata_php::read_fetch_option(2, str_key, value, options, &known)) return false;
        if (!known) {
            zend_argument_value_error(2, "contains an unknown option %s (known: max_age, timeout_ms, allow_stale)",
                                      quote_for_message(ZSTR_VAL(str_key), ZSTR_LEN(str_key)).c_str());
            return false;
        }
    }
    ZEND_HASH_FOREACH_END();
    return true;
}

/* Parses the arguments of both fetch functions and runs the fetch. False when an argument
 * was rejected (an exception is pending). */
bool run_fetch(INTERNAL_FUNCTION_PARAMETERS, FetchOutcome& out, vault_metadata::CallKind kind) {
    HashTable* video_ids;
    HashTable* options_table = nullptr;
    ZEND_PARSE_PARAMETERS_START(1, 2)
        Z_PARAM_ARRAY_HT(video_ids)
        Z_PARAM_OPTIONAL
        Z_PARAM_ARRAY_HT(options_table)
    ZEND_PARSE_PARAMETERS_END_EX(return false);

    if (!collect_video_ids(video_ids, out.ids) || !parse_options(options_table, out.options)) return false;
    vault_metadata_php::run_fetch_pipeline(out, kind);
    return true;
}

/* The item of a slot, as a zval ready to be added to an array. */
void slot_item(const FetchOutcome& out, const Slot& slot, zval* item) {
    if (slot.entry) {
        vault_metadata_php::local_cache_item(slot.entry, out.now, out.options.max_age, item);
        return;
    }
    vault_metadata_php::build_request_item(item, slot.served->meta, vault_metadata_php::slot_ttl(out, slot),
                                           slot.how == Served::stale);
}

}  // namespace

PHP_FUNCTION(vault_metadata_fetch_batch) {
    FetchOutcome out;
    if (!run_fetch(INTERNAL_FUNCTION_PARAM_PASSTHRU, out, vault_metadata::CallKind::fetch_batch)) RETURN_THROWS();
    array_init_size(return_value, static_cast<uint32_t>(out.ids.size()));
    for (size_t i = 0; i < out.slots.size(); ++i) {
        const Slot& slot = out.slots[i];
        if (slot.missing) continue;
        zval item;
        slot_item(out, slot, &item);
        if (slot.entry) {
            vault_metadata_php::local_cache_add_to(Z_ARRVAL_P(return_value), slot.entry, &item);
        } else {
            /* An id of digits only becomes an integer key, as PHP arrays always do. */
            zend_symtable_str_update(Z_ARRVAL_P(return_value), out.ids[i].data(), out.ids[i].size(), &item);
        }
    }
}

PHP_FUNCTION(vault_metadata_fetch_batch_detailed) {
    FetchOutcome out;
    if (!run_fetch(INTERNAL_FUNCTION_PARAM_PASSTHRU, out, vault_metadata::CallKind::fetch_batch_detailed)) {
        RETURN_THROWS();
    }
    zval fresh, refreshed, stale, missing;
    array_init(&fresh);
    array_init(&refreshed);
    array_init(&stale);
    array_init(&missing);
    for (size_t i = 0; i < out.slots.size(); ++i) {
        const Slot& slot = out.slots[i];
        if (slot.missing) {
            add_next_index_stringl(&missing, out.ids[i].data(), out.ids[i].size());
            continue;
        }
        zval item;
        slot_item(out, slot, &item);
        zval* list = slot.how == Served::fresh ? &fresh : slot.how == Served::refreshed ? &refreshed : &stale;
        add_next_index_zval(list, &item);
    }

    int64_t quota_remaining = 0;
    try {
        quota_remaining = vault_metadata::Engine::for_this_process().quota(current_settings()).remaining;
    } catch (...) {
    }
    const std::string& correlation_id = out.correlation_id;

    array_init_size(return_value, 6);
    add_assoc_zval(return_value, "fresh", &fresh);
    add_assoc_zval(return_value, "stale_refreshed", &refreshed);
    add_assoc_zval(return_value, "stale", &stale);
    add_assoc_zval(return_value, "missing", &missing);
    add_assoc_long(return_value, "quota_remaining", quota_remaining);
    add_assoc_stringl(return_value, "correlation_id", correlation_id.data(), correlation_id.size());
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
