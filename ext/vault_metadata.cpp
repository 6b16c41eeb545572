/* Module entry, INI settings and phpinfo(). The functions live in functions.cpp. */

#include "php_vault_metadata.h"

extern "C" {
#include "ext/standard/info.h"
#include "main/php_ini.h"
#include "main/SAPI.h"
}

#include <chrono>
#include <cstring>

#include "engine.h"
#include "fetch_pipeline.h"
#include "indexnow.h"
#include "local_cache.h"
#include "log.h"
#include "vault_metadata_arginfo.h"

ZEND_DECLARE_MODULE_GLOBALS(vault_metadata)

namespace {

/* Integer settings: a value that is not a whole number in range is refused at start-up
 * (or by ini_set(), which then returns false) instead of being read as 0. */
bool parse_bounded_long(zend_string* value, zend_long min, zend_long max, zend_long* out) {
    zend_long parsed;
    double ignored;
    if (is_numeric_string(ZSTR_VAL(value), ZSTR_LEN(value), &parsed, &ignored, false) != IS_LONG) {
        return false;
    }
    if (parsed < min || parsed > max) return false;
    *out = parsed;
    return true;
}

#define VM_BOUNDED_LONG_HANDLER(handler, min, max)                                              \
    ZEND_INI_MH(handler) {                                                                     \
        zend_long parsed;                                                                      \
        if (!parse_bounded_long(new_value, min, max, &parsed)) {                               \
            php_error_docref(NULL, E_WARNING, "%s must be an integer from %s to %s, \"%s\" given", \
                             ZSTR_VAL(entry->name), #min, #max, ZSTR_VAL(new_value));          \
            return FAILURE;                                                                    \
        }                                                                                      \
        return OnUpdateLong(entry, new_value, mh_arg1, mh_arg2, mh_arg3, stage);               \
    }

VM_BOUNDED_LONG_HANDLER(OnUpdateNonNegative, 0, ZEND_LONG_MAX)
VM_BOUNDED_LONG_HANDLER(OnUpdatePositive, 1, ZEND_LONG_MAX)
VM_BOUNDED_LONG_HANDLER(OnUpdatePoolSize, 1, 64)

ZEND_INI_MH(OnUpdateQuotaBackend) {
    if (!zend_string_equals_literal(new_value, "sqlite") && !zend_string_equals_literal(new_value, "redis")) {
        php_error_docref(NULL, E_WARNING, "vault_metadata.quota_backend must be \"sqlite\" or \"redis\", \"%s\" given",
                         ZSTR_VAL(new_value));
        return FAILURE;
    }
    return OnUpdateString(entry, new_value, mh_arg1, mh_arg2, mh_arg3, stage);
}

ZEND_INI_MH(OnUpdateLogLevel) {
    vault_metadata::LogLevel level;
    if (!vault_metadata::parse_log_level(ZSTR_VAL(new_value), level)) {
        php_error_docref(NULL, E_WARNING,
                         "vault_metadata.log_level must be error, warning, info or debug, \"%s\" given",
                         ZSTR_VAL(new_value));
        return FAILURE;
    }
    vault_metadata::set_log_level(level);
    return OnUpdateString(entry, new_value, mh_arg1, mh_arg2, mh_arg3, stage);
}

ZEND_INI_MH(OnUpdateIndexNowKey) {
    if (ZSTR_LEN(new_value) && !vault_metadata::is_valid_indexnow_key(ZSTR_VAL(new_value))) {
        php_error_docref(NULL, E_WARNING,
                         "vault_metadata.indexnow_key must be 8 to 128 characters of a-z, A-Z, 0-9 and -");
        return FAILURE;
    }
    return OnUpdateString(entry, new_value, mh_arg1, mh_arg2, mh_arg3, stage);
}

/* The API key is a secret: phpinfo() and ini_get_all() displays say only whether it is set. */
ZEND_INI_DISP(display_api_key) {
    zend_string* value = (type == ZEND_INI_DISPLAY_ORIG && ini_entry->modified) ? ini_entry->orig_value
                                                                               : ini_entry->value;
    const char* shown = (value && ZSTR_LEN(value)) ? "set" : "not set";
    if (!sapi_module.phpinfo_as_text) {
        php_printf("<i>%s</i>", shown);
    } else {
        php_printf("%s", shown);
    }
}

}  // namespace

PHP_INI_BEGIN()
    STD_PHP_INI_BOOLEAN("vault_metadata.enabled", "1", PHP_INI_ALL, OnUpdateBool, enabled,
                        zend_vault_metadata_globals, vault_metadata_globals)
    STD_PHP_INI_ENTRY("vault_metadata.db_path", "", PHP_INI_ALL, OnUpdateString, db_path,
                      zend_vault_metadata_globals, vault_metadata_globals)
    STD_PHP_INI_ENTRY("vault_metadata.quota_path", "", PHP_INI_ALL, OnUpdateString, quota_path,
                      zend_vault_metadata_globals, vault_metadata_globals)
    STD_PHP_INI_ENTRY_EX("vault_metadata.api_key", "", PHP_INI_ALL, OnUpdateString, api_key,
                         zend_vault_metadata_globals, vault_metadata_globals, display_api_key)
    STD_PHP_INI_ENTRY("vault_metadata.api_base", "https://www.googleapis.com/youtube/v3", PHP_INI_ALL,
                      OnUpdateString, api_base, zend_vault_metadata_globals, vault_metadata_globals)
    STD_PHP_INI_ENTRY("vault_metadata.max_age", "3600", PHP_INI_ALL, OnUpdateNonNegative, max_age,
                      zend_vault_metadata_globals, vault_metadata_globals)
    STD_PHP_INI_ENTRY("vault_metadata.fetch_timeout_ms", "2000", PHP_INI_ALL, OnUpdateNonNegative,
                      fetch_timeout_ms, zend_vault_metadata_globals, vault_metadata_globals)
    STD_PHP_INI_ENTRY("vault_metadata.upstream_timeout_ms", "10000", PHP_INI_ALL, OnUpdatePositive,
                      upstream_timeout_ms, zend_vault_metadata_globals, vault_metadata_globals)
    STD_PHP_INI_ENTRY("vault_metadata.max_batch", "1000", PHP_INI_ALL, OnUpdatePositive, max_batch,
                      zend_vault_metadata_globals, vault_metadata_globals)
    STD_PHP_INI_ENTRY("vault_metadata.negative_ttl", "3600", PHP_INI_ALL, OnUpdateNonNegative, negative_ttl,
                      zend_vault_metadata_globals, vault_metadata_globals)
    STD_PHP_INI_ENTRY("vault_metadata.pool_size", "4", PHP_INI_ALL, OnUpdatePoolSize, pool_size,
                      zend_vault_metadata_globals, vault_metadata_globals)
    STD_PHP_INI_ENTRY("vault_metadata.mmap_size", "0", PHP_INI_ALL, OnUpdateNonNegative, mmap_size,
                      zend_vault_metadata_globals, vault_metadata_globals)
    STD_PHP_INI_ENTRY("vault_metadata.quota_daily_units", "10000", PHP_INI_ALL, OnUpdateNonNegative,
                      quota_daily_units, zend_vault_metadata_globals, vault_metadata_globals)
    STD_PHP_INI_ENTRY("vault_metadata.quota_backend", "sqlite", PHP_INI_ALL, OnUpdateQuotaBackend,
                      quota_backend, zend_vault_metadata_globals, vault_metadata_globals)
    STD_PHP_INI_ENTRY("vault_metadata.redis_url", "", PHP_INI_ALL, OnUpdateString, redis_url,
                      zend_vault_metadata_globals, vault_metadata_globals)
    STD_PHP_INI_ENTRY("vault_metadata.refresh_interval", "90", PHP_INI_ALL, OnUpdatePositive, refresh_interval,
                      zend_vault_metadata_globals, vault_metadata_globals)
    STD_PHP_INI_ENTRY("vault_metadata.refresh_budget_units", "5", PHP_INI_ALL, OnUpdateNonNegative,
                      refresh_budget_units, zend_vault_metadata_globals, vault_metadata_globals)
    STD_PHP_INI_ENTRY("vault_metadata.local_cache_items", "4096", PHP_INI_ALL, OnUpdateNonNegative,
                      local_cache_items, zend_vault_metadata_globals, vault_metadata_globals)
    STD_PHP_INI_ENTRY("vault_metadata.metrics_url", "", PHP_INI_ALL, OnUpdateString, metrics_url,
                      zend_vault_metadata_globals, vault_metadata_globals)
    STD_PHP_INI_ENTRY("vault_metadata.metrics_flush_interval", "60", PHP_INI_ALL, OnUpdatePositive,
                      metrics_flush_interval, zend_vault_metadata_globals, vault_metadata_globals)
    STD_PHP_INI_ENTRY("vault_metadata.indexnow_endpoint", "", PHP_INI_ALL, OnUpdateString, indexnow_endpoint,
                      zend_vault_metadata_globals, vault_metadata_globals)
    STD_PHP_INI_ENTRY("vault_metadata.indexnow_key", "", PHP_INI_ALL, OnUpdateIndexNowKey, indexnow_key,
                      zend_vault_metadata_globals, vault_metadata_globals)
    STD_PHP_INI_ENTRY("vault_metadata.indexnow_key_location", "", PHP_INI_ALL, OnUpdateString,
                      indexnow_key_location, zend_vault_metadata_globals, vault_metadata_globals)
    STD_PHP_INI_ENTRY("vault_metadata.indexnow_host", "", PHP_INI_ALL, OnUpdateString, indexnow_host,
                      zend_vault_metadata_globals, vault_metadata_globals)
    STD_PHP_INI_ENTRY("vault_metadata.log_level", "warning", PHP_INI_ALL, OnUpdateLogLevel, log_level,
                      zend_vault_metadata_globals, vault_metadata_globals)
PHP_INI_END()

static PHP_GINIT_FUNCTION(vault_metadata) {
#if defined(COMPILE_DL_VAULT_METADATA) && defined(ZTS)
    ZEND_TSRMLS_CACHE_UPDATE();
#endif
    memset(vault_metadata_globals, 0, sizeof(*vault_metadata_globals));
}

static PHP_MINIT_FUNCTION(vault_metadata) {
    REGISTER_INI_ENTRIES();
    php_vault_metadata_register_item_keys();
    /* Only process-wide library set-up here: php-fpm and LSAPI fork after MINIT, and no
     * thread, socket or database handle survives a fork. Those start on first use. */
    vault_metadata::Engine::global_init();
    return SUCCESS;
}

static PHP_MSHUTDOWN_FUNCTION(vault_metadata) {
    vault_metadata::Engine::shutdown_this_process(std::chrono::milliseconds(1500));
    vault_metadata_php::local_cache_shutdown();
    php_vault_metadata_flush_log();
    vault_metadata::Engine::global_cleanup();
    UNREGISTER_INI_ENTRIES();
    return SUCCESS;
}

static PHP_RSHUTDOWN_FUNCTION(vault_metadata) {
    php_vault_metadata_flush_log();
    vault_metadata_php::forget_last_correlation_id();
    return SUCCESS;
}

/* After the request's variables are gone: what the local cache replaced may be freed. */
static ZEND_MODULE_POST_ZEND_DEACTIVATE_D(vault_metadata) {
    vault_metadata_php::local_cache_release_retired();
    return SUCCESS;
}

static PHP_MINFO_FUNCTION(vault_metadata) {
    vault_metadata::LibraryVersions versions = vault_metadata::library_versions();
    php_info_print_table_start();
    php_info_print_table_row(2, "vault_metadata support", "enabled");
    php_info_print_table_row(2, "Version", versions.extension.c_str());
    php_info_print_table_row(2, "libuv", versions.libuv.c_str());
    php_info_print_table_row(2, "libcurl", versions.libcurl.c_str());
    php_info_print_table_row(2, "SQLite", versions.sqlite.c_str());
    php_info_print_table_row(2, "msgpack-c", versions.msgpack.c_str());
    php_info_print_table_row(2, "simdjson", versions.simdjson.c_str());
    const char* key_source = VAULT_METADATA_G(api_key)[0] ? "set (vault_metadata.api_key)"
                             : getenv("VAULT_YOUTUBE_API_KEY") && getenv("VAULT_YOUTUBE_API_KEY")[0]
                                 ? "set (VAULT_YOUTUBE_API_KEY)"
                                 : "not set";
    php_info_print_table_row(2, "API key", key_source);
    php_info_print_table_end();
    DISPLAY_INI_ENTRIES();
}

void php_vault_metadata_flush_log(void) {
    /* The CLI without an error_log would print these on stderr, into the script's
     * output; other SAPIs always have a log of their own. */
    bool has_log = (PG(error_log) && PG(error_log)[0]) || strcmp(sapi_module.name, "cli") != 0;
    vault_metadata::drain_log_lines([has_log](const std::string& line) {
        if (has_log) php_log_err_with_severity(const_cast<char*>(line.c_str()), LOG_NOTICE);
    });
}

zend_module_entry vault_metadata_module_entry = {
    STANDARD_MODULE_HEADER,
    "vault_metadata",
    ext_functions,
    PHP_MINIT(vault_metadata),
    PHP_MSHUTDOWN(vault_metadata),
    NULL,
    PHP_RSHUTDOWN(vault_metadata),
    PHP_MINFO(vault_metadata),
    PHP_VAULT_METADATA_VERSION,
    PHP_MODULE_GLOBALS(vault_metadata),
    PHP_GINIT(vault_metadata),
    NULL,
    ZEND_MODULE_POST_ZEND_DEACTIVATE_N(vault_metadata),
    STANDARD_MODULE_PROPERTIES_EX,
};

#ifdef COMPILE_DL_VAULT_METADATA
extern "C" {
#ifdef ZTS
ZEND_TSRMLS_CACHE_DEFINE()
#endif
ZEND_GET_MODULE(vault_metadata)
}
#endif
