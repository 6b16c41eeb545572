/* What an operator reads: quota, health, stats, metrics, the event ring; and IndexNow.
 * The numbers are the core's; this file only turns them into PHP values. */

#include "php_vault_metadata.h"

extern "C" {
#include "zend_exceptions.h"
}

#include <string>
#include <vector>

#include "engine.h"
#include "fetch_pipeline.h"
#include "indexnow.h"
#include "log.h"
#include "telemetry.h"

namespace {

using vault_metadata::ErrorClass;
using vault_metadata_php::current_settings;

void quota_array(zval* out, const vault_metadata::EngineSettings& settings) {
    vault_metadata::QuotaView quota;
    try {
        quota = vault_metadata::Engine::for_this_process().quota(settings);
    } catch (...) {
        quota.limit = settings.quota_daily_units;
    }
    array_init_size(out, 6);
    add_assoc_long(out, "limit", quota.limit);
    add_assoc_long(out, "used", quota.used);
    add_assoc_long(out, "remaining", quota.remaining);
    add_assoc_long(out, "resets_at", quota.resets_at);
    add_assoc_bool(out, "exhausted", quota.exhausted);
    add_assoc_stringl(out, "backend", quota.backend.data(), quota.backend.size());
}

/* Unix seconds, or null for "never". */
void add_time_or_null(zval* array, const char* key, int64_t seconds) {
    if (seconds > 0) {
        add_assoc_long(array, key, seconds);
    } else {
        add_assoc_null(array, key);
    }
}

void error_counts(zval* out, const vault_metadata::MinuteStats& m) {
    array_init(out);
    for (size_t i = 1; i < vault_metadata::kErrorClassCount; ++i) {
        add_assoc_long(out, vault_metadata::error_class_name(static_cast<ErrorClass>(i)),
                       static_cast<zend_long>(m.upstream_errors[i]));
    }
}

void minute_array(zval* out, const vault_metadata::MinuteStats& m) {
    array_init(out);
    add_assoc_long(out, "minute_start", m.minute_start / 1000);
    add_assoc_long(out, "calls", static_cast<zend_long>(m.calls));
    add_assoc_long(out, "ids", static_cast<zend_long>(m.ids));
    add_assoc_long(out, "fresh", static_cast<zend_long>(m.fresh));
    add_assoc_long(out, "stale", static_cast<zend_long>(m.stale));
    add_assoc_long(out, "refreshed", static_cast<zend_long>(m.refreshed));
    add_assoc_long(out, "missing", static_cast<zend_long>(m.missing));
    add_assoc_double(out, "cache_hit_ratio", m.cache_hit_ratio());
    zval latency;
    array_init_size(&latency, 3);
    add_assoc_double(&latency, "p50", m.p50_ms);
    add_assoc_double(&latency, "p95", m.p95_ms);
    add_assoc_double(&latency, "p99", m.p99_ms);
    add_assoc_zval(out, "latency_ms", &latency);
    add_assoc_long(out, "upstream_calls", static_cast<zend_long>(m.upstream_calls));
    zval errors;
    error_counts(&errors, m);
    add_assoc_zval(out, "upstream_errors", &errors);
    add_assoc_long(out, "quota_units", static_cast<zend_long>(m.quota_units));
}

vault_metadata::Telemetry* telemetry_or_null(const vault_metadata::EngineSettings& settings) {
    try {
        return vault_metadata::Engine::for_this_process().telemetry(settings);
    } catch (...) {
        return nullptr;
    }
}

}  // namespace

PHP_FUNCTION(vault_metadata_quota) {
    ZEND_PARSE_PARAMETERS_NONE();
    quota_array(return_value, current_settings());
    php_vault_metadata_flush_log();
}

PHP_FUNCTION(vault_metadata_last_correlation_id) {
    ZEND_PARSE_PARAMETERS_NONE();
    const std::string& id = vault_metadata_php::last_correlation_id();
    if (id.empty()) RETURN_NULL();
    RETURN_STRINGL(id.data(), id.size());
}

PHP_FUNCTION(vault_metadata_stats) {
    zend_long minutes = 1;
    ZEND_PARSE_PARAMETERS_START(0, 1)
        Z_PARAM_OPTIONAL
        Z_PARAM_LONG(minutes)
    ZEND_PARSE_PARAMETERS_END();
    if (minutes < 1 || minutes > 60) {
        zend_argument_value_error(1, "must be between 1 and 60");
        RETURN_THROWS();
    }
    const vault_metadata::EngineSettings settings = current_settings();
    vault_metadata::Telemetry* telemetry = telemetry_or_null(settings);
    array_init_size(return_value, 3);
    zval list, total;
    array_init_size(&list, static_cast<uint32_t>(minutes));
    if (telemetry) {
        const int64_t now_ms = vault_metadata::Telemetry::wall_clock_ms();
        for (const auto& m : telemetry->minutes(now_ms, static_cast<int>(minutes))) {
            zval one;
            minute_array(&one, m);
            add_next_index_zval(&list, &one);
        }
        minute_array(&total, telemetry->window(now_ms, static_cast<int>(minutes)));
    } else {
        minute_array(&total, vault_metadata::MinuteStats{});
    }
    add_assoc_zval(return_value, "minutes", &list);
    add_assoc_zval(return_value, "total", &total);
    add_assoc_bool(return_value, "shared", telemetry && telemetry->shared());
}

PHP_FUNCTION(vault_metadata_metrics) {
    ZEND_PARSE_PARAMETERS_NONE();
    vault_metadata::Telemetry* telemetry = telemetry_or_null(current_settings());
    if (!telemetry) RETURN_EMPTY_STRING();
    std::string text = telemetry->prometheus_text(vault_metadata::Telemetry::wall_clock_ms());
    RETURN_STRINGL(text.data(), text.size());
}

PHP_FUNCTION(vault_metadata_health) {
    ZEND_PARSE_PARAMETERS_NONE();
    const vault_metadata::EngineSettings settings = current_settings();
    vault_metadata::HealthView health;
    try {
        health = vault_metadata::Engine::for_this_process().health(settings);
    } catch (...) {
        health.cache_error = "the engine could not be reached";
    }
    php_vault_metadata_flush_log();

    array_init_size(return_value, 7);
    add_assoc_bool(return_value, "ok", health.ok);

    zval cache;
    array_init_size(&cache, 3);
    add_assoc_bool(&cache, "reachable", health.cache_reachable);
    add_assoc_stringl(&cache, "path", settings.db_path.data(), settings.db_path.size());
    if (health.cache_error.empty()) {
        add_assoc_null(&cache, "error");
    } else {
        add_assoc_stringl(&cache, "error", health.cache_error.data(), health.cache_error.size());
    }
    add_assoc_zval(return_value, "cache", &cache);

    zval pool;
    array_init_size(&pool, 3);
    add_assoc_long(&pool, "size", health.pool_size);
    add_assoc_long(&pool, "open", health.pool_open);
    add_assoc_long(&pool, "idle", health.pool_idle);
    add_assoc_zval(return_value, "pool", &pool);

    zval thread;
    array_init_size(&thread, 1);
    add_assoc_bool(&thread, "alive", health.loop_thread_alive);
    add_assoc_zval(return_value, "background_thread", &thread);

    zval upstream;
    array_init_size(&upstream, 3);
    add_time_or_null(&upstream, "last_success_at", health.last_success_at);
    add_time_or_null(&upstream, "last_error_at", health.last_error_at);
    if (health.last_error_at > 0) {
        add_assoc_string(&upstream, "last_error_class", vault_metadata::error_class_name(health.last_error_class));
    } else {
        add_assoc_null(&upstream, "last_error_class");
    }
    add_assoc_zval(return_value, "upstream", &upstream);

    zval quota;
    quota_array(&quota, settings);
    add_assoc_zval(return_value, "quota", &quota);
    add_assoc_bool(return_value, "telemetry_shared", health.telemetry_shared);
}

PHP_FUNCTION(vault_metadata_events) {
    zend_string* correlation_id = nullptr;
    ZEND_PARSE_PARAMETERS_START(0, 1)
        Z_PARAM_OPTIONAL
        Z_PARAM_STR(correlation_id)
    ZEND_PARSE_PARAMETERS_END();
    vault_metadata::Telemetry* telemetry = telemetry_or_null(current_settings());
    array_init(return_value);
    if (!telemetry) return;
    std::string_view filter = correlation_id ? std::string_view(ZSTR_VAL(correlation_id), ZSTR_LEN(correlation_id))
                                             : std::string_view();
    for (const auto& e : telemetry->recent_events(vault_metadata::Telemetry::wall_clock_ms(), filter, 10000)) {
        zval event;
        array_init_size(&event, 11);
        add_assoc_double(&event, "at", static_cast<double>(e.at_ms) / 1000.0);
        add_assoc_string(&event, "correlation_id", e.correlation_id);
        add_assoc_string(&event, "function", vault_metadata::call_kind_name(e.kind));
        add_assoc_long(&event, "ids", e.ids);
        add_assoc_long(&event, "fresh", e.fresh);
        add_assoc_long(&event, "stale", e.stale);
        add_assoc_long(&event, "refreshed", e.refreshed);
        add_assoc_long(&event, "missing", e.missing);
        add_assoc_double(&event, "latency_ms", static_cast<double>(e.latency_us) / 1000.0);
        if (e.upstream_error == ErrorClass::none) {
            add_assoc_null(&event, "upstream_error");
        } else {
            add_assoc_string(&event, "upstream_error", vault_metadata::error_class_name(e.upstream_error));
        }
        add_assoc_long(&event, "pid", e.pid);
        add_next_index_zval(return_value, &event);
    }
}

PHP_FUNCTION(vault_indexnow_submit) {
    HashTable* urls;
    ZEND_PARSE_PARAMETERS_START(1, 1)
        Z_PARAM_ARRAY_HT(urls)
    ZEND_PARSE_PARAMETERS_END();

    zend_ulong num_key;
    zend_string* str_key;
    zval* entry;
    ZEND_HASH_FOREACH_KEY_VAL(urls, num_key, str_key, entry) {
        ZVAL_DEREF(entry);
        if (Z_TYPE_P(entry) != IS_STRING) {
            if (str_key) {
                zend_argument_type_error(1, "must contain only strings, %s given at key \"%s\"",
                                         zend_zval_type_name(entry), ZSTR_VAL(str_key));
            } else {
                zend_argument_type_error(1, "must contain only strings, %s given at key " ZEND_ULONG_FMT,
                                         zend_zval_type_name(entry), num_key);
            }
            RETURN_THROWS();
        }
    }
    ZEND_HASH_FOREACH_END();

    const vault_metadata::EngineSettings settings = current_settings();
    if (settings.indexnow_endpoint.empty() || settings.indexnow_key.empty() || settings.indexnow_host.empty()) {
        php_error_docref(nullptr, E_WARNING,
                         "IndexNow is off: set vault_metadata.indexnow_endpoint, indexnow_key and indexnow_host");
        RETURN_LONG(0);
    }
    std::vector<std::string> accepted;
    std::string why;
    size_t refused = 0;
    ZEND_HASH_FOREACH_VAL(urls, entry) {
        ZVAL_DEREF(entry);
        std::string_view url(Z_STRVAL_P(entry), Z_STRLEN_P(entry));
        if (vault_metadata::is_acceptable_indexnow_url(url, settings.indexnow_host, &why)) {
            accepted.emplace_back(url);
        } else {
            ++refused;
        }
    }
    ZEND_HASH_FOREACH_END();
    if (refused) {
        vault_metadata::log_event(vault_metadata::LogLevel::warning, "indexnow_urls_refused", "",
                                  ErrorClass::none, std::to_string(refused) + " URL(s): " + why);
    }
    const auto count = static_cast<zend_long>(accepted.size());
    try {
        vault_metadata::Engine::for_this_process().indexnow_submit(std::move(accepted), settings);
    } catch (...) {
        RETURN_LONG(0);
    }
    php_vault_metadata_flush_log();
    RETURN_LONG(count);
}
