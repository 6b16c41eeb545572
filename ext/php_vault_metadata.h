#ifndef PHP_VAULT_METADATA_H
#define PHP_VAULT_METADATA_H

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

extern "C" {
#include "php.h"
}

#include "version.h"

#define PHP_VAULT_METADATA_VERSION VAULT_METADATA_VERSION

extern zend_module_entry vault_metadata_module_entry;
#define phpext_vault_metadata_ptr &vault_metadata_module_entry

ZEND_BEGIN_MODULE_GLOBALS(vault_metadata)
    bool enabled;
    char* db_path;
    char* quota_path;
    char* api_key;
    char* api_base;
    zend_long max_age;
    zend_long fetch_timeout_ms;
    zend_long upstream_timeout_ms;
    zend_long max_batch;
    zend_long negative_ttl;
    zend_long pool_size;
    zend_long mmap_size;
    zend_long quota_daily_units;
    char* quota_backend;
    char* redis_url;
    zend_long refresh_interval;
    zend_long refresh_budget_units;
    zend_long local_cache_items;
    char* metrics_url;
    zend_long metrics_flush_interval;
    char* indexnow_endpoint;
    char* indexnow_key;
    char* indexnow_key_location;
    char* indexnow_host;
    char* log_level;
ZEND_END_MODULE_GLOBALS(vault_metadata)

ZEND_EXTERN_MODULE_GLOBALS(vault_metadata)
#define VAULT_METADATA_G(v) ZEND_MODULE_GLOBALS_ACCESSOR(vault_metadata, v)

/* Interned keys of an item array, created once at module start-up. */
enum php_vault_metadata_item_key {
    VM_KEY_VIDEO_ID,
    VM_KEY_TITLE,
    VM_KEY_CHANNEL_ID,
    VM_KEY_CHANNEL_TITLE,
    VM_KEY_CHANNEL_HANDLE,
    VM_KEY_PUBLISHED_AT,
    VM_KEY_DURATION_SECONDS,
    VM_KEY_VIEW_COUNT,
    VM_KEY_LIKE_COUNT,
    VM_KEY_COMMENT_COUNT,
    VM_KEY_CATEGORY_ID,
    VM_KEY_LIVE_BROADCAST_CONTENT,
    VM_KEY_AGE_RESTRICTED,
    VM_KEY_LICENSED_CONTENT,
    VM_KEY_EMBEDDABLE,
    VM_KEY_MADE_FOR_KIDS,
    VM_KEY_PRIVACY_STATUS,
    VM_KEY_ALLOWED_COUNTRIES,
    VM_KEY_BLOCKED_COUNTRIES,
    VM_KEY_TTL,
    VM_KEY_FETCHED_AT,
    VM_KEY_STALE,
    VM_KEY_COUNT
};
extern zend_string* php_vault_metadata_item_keys[VM_KEY_COUNT];

void php_vault_metadata_register_item_keys(void);
/* Hands the core's queued log lines to PHP's error log. */
void php_vault_metadata_flush_log(void);

#endif
