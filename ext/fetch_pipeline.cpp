#include "fetch_pipeline.h"

extern "C" {
#include "main/php_open_temporary_file.h"
#include "zend_exceptions.h"
}

#include <chrono>

#include "correlation_id.h"
#include "log.h"
#include "ttl_policy.h"

namespace vault_metadata_php {

using vault_metadata::Served;

namespace {

std::string& last_id() {
    static std::string* id = new std::string();  // per process; requests are sequential (NTS)
    return *id;
}

std::string ini_string(const char* value) {
    return value ? value : "";
}

}  // namespace

bool read_int_option(uint32_t arg_num, zval* value, const char* name, zend_long min, zend_long& out) {
    if (Z_TYPE_P(value) != IS_LONG) {
        zend_argument_type_error(arg_num, "option \"%s\" must be of type int, %s given", name,
                                 zend_zval_type_name(value));
        return false;
    }
    if (Z_LVAL_P(value) < min) {
        zend_argument_value_error(arg_num, "option \"%s\" must be greater than or equal to " ZEND_LONG_FMT, name,
                                  min);
        return false;
    }
    out = Z_LVAL_P(value);
    return true;
}

bool read_fetch_option(uint32_t arg_num, zend_string* key, zval* value, vault_metadata::FetchOptions& options,
                       bool* known) {
    *known = true;
    zend_long number = 0;
    if (zend_string_equals_literal(key, "max_age")) {
        if (!read_int_option(arg_num, value, "max_age", 0, number)) return false;
        options.max_age = number;
    } else if (zend_string_equals_literal(key, "timeout_ms")) {
        if (!read_int_option(arg_num, value, "timeout_ms", 0, number)) return false;
        options.timeout_ms = number;
    } else if (zend_string_equals_literal(key, "allow_stale")) {
        if (Z_TYPE_P(value) != IS_TRUE && Z_TYPE_P(value) != IS_FALSE) {
            zend_argument_type_error(arg_num, "option \"allow_stale\" must be of type bool, %s given",
                                     zend_zval_type_name(value));
            return false;
        }
        options.allow_stale = Z_TYPE_P(value) == IS_TRUE;
    } else {
        *known = false;
    }
    return true;
}

vault_metadata::EngineSettings current_settings() {
    vault_metadata::EngineSettings s;
    s.enabled = VAULT_METADATA_G(enabled);
    s.db_path = ini_string(VAULT_METADATA_G(db_path));
    if (s.db_path.empty()) {
        const char* tmp = php_get_temporary_directory();
        s.db_path = std::string(tmp ? tmp : "/tmp") + "/vault_metadata.sqlite";
    }
    s.quota_path = ini_string(VAULT_METADATA_G(quota_path));
    if (s.quota_path.empty()) s.quota_path = s.db_path + ".quota";
    s.api_key = vault_metadata::effective_api_key(ini_string(VAULT_METADATA_G(api_key)));
    s.api_base = ini_string(VAULT_METADATA_G(api_base));
    while (!s.api_base.empty() && s.api_base.back() == '/') s.api_base.pop_back();
    if (s.api_base.empty()) s.api_base = vault_metadata::kDefaultApiBase;
    s.upstream_timeout_ms = VAULT_METADATA_G(upstream_timeout_ms);
    s.negative_ttl = VAULT_METADATA_G(negative_ttl);
    s.quota_daily_units = VAULT_METADATA_G(quota_daily_units);
    s.pool_size = VAULT_METADATA_G(pool_size);
    s.mmap_size = VAULT_METADATA_G(mmap_size);
    s.max_age = VAULT_METADATA_G(max_age);
    s.refresh_interval = VAULT_METADATA_G(refresh_interval);
    s.refresh_budget_units = VAULT_METADATA_G(refresh_budget_units);
    s.quota_backend = ini_string(VAULT_METADATA_G(quota_backend));
    s.metrics_url = ini_string(VAULT_METADATA_G(metrics_url));
    s.metrics_flush_interval = VAULT_METADATA_G(metrics_flush_interval);
    s.indexnow_endpoint = ini_string(VAULT_METADATA_G(indexnow_endpoint));
    s.indexnow_key = ini_string(VAULT_METADATA_G(indexnow_key));
    s.indexnow_key_location = ini_string(VAULT_METADATA_G(indexnow_key_location));
    s.indexnow_host = ini_string(VAULT_METADATA_G(indexnow_host));
    return s;
}

void run_fetch_pipeline(FetchOutcome& out, vault_metadata::CallKind kind) {
    const auto started = std::chrono::steady_clock::now();
    out.correlation_id = vault_metadata::new_correlation_id();
    last_id() = out.correlation_id;
    out.now = static_cast<int64_t>(time(nullptr));
    out.slots.assign(out.ids.size(), Slot{});
    if (out.ids.empty()) return;

    const vault_metadata::EngineSettings settings = current_settings();
    local_cache_configure(settings.db_path, VAULT_METADATA_G(local_cache_items));
    std::vector<std::string> misses;
    std::vector<size_t> miss_slots;
    std::vector<std::string> soon_stale;
    const int64_t refresh_horizon = out.options.max_age - 2 * settings.refresh_interval;
    for (size_t i = 0; i < out.ids.size(); ++i) {
        const LocalEntry* entry = local_cache_find(out.ids[i], out.now, out.options.max_age);
        if (!entry) {
            misses.push_back(out.ids[i]);
            miss_slots.push_back(i);
            continue;
        }
        out.slots[i] = Slot{Served::fresh, false, entry, nullptr};
        if (out.now - local_cache_fetched_at(entry) >= refresh_horizon) soon_stale.push_back(out.ids[i]);
    }
    vault_metadata::Engine* engine = nullptr;
    try {
        engine = &vault_metadata::Engine::for_this_process();
        if (!misses.empty()) out.answer = engine->fetch_batch(misses, out.options, settings, out.correlation_id);
        if (!soon_stale.empty()) engine->note_requested(soon_stale);
    } catch (...) {
        /* Out of memory or a library throwing: the page still renders, with what it has. */
        out.answer = vault_metadata::BatchAnswer{};
    }
    /* The engine answers in the order it was asked, leaving out what it has no item for. */
    size_t next = 0;
    for (size_t j = 0; j < misses.size(); ++j) {
        if (next >= out.answer.items.size() || out.answer.items[next].meta.video_id != misses[j]) {
            local_cache_forget(misses[j]);  // gone upstream, or not to be had: not fresh anywhere
            continue;
        }
        const vault_metadata::ServedItem& served = out.answer.items[next++];
        Slot& slot = out.slots[miss_slots[j]];
        slot = Slot{served.how, false, nullptr, &served};
        // Kept for the next call; this one builds its arrays itself (the shared ones are made
        // on the first hit, so a cold batch does not pay for both).
        if (served.how == Served::stale) {
            local_cache_forget(misses[j]);
        } else {
            local_cache_store(served.meta, out.now);
        }
    }

    vault_metadata::CallEvent event;
    event.kind = kind;
    event.pid = static_cast<int32_t>(vault_metadata::Engine::process_id());
    std::snprintf(event.correlation_id, sizeof(event.correlation_id), "%s", out.correlation_id.c_str());
    event.ids = static_cast<uint32_t>(out.ids.size());
    for (const Slot& slot : out.slots) {
        if (slot.missing) {
            ++event.missing;
        } else if (slot.how == Served::fresh) {
            ++event.fresh;
        } else if (slot.how == Served::refreshed) {
            ++event.refreshed;
        } else {
            ++event.stale;
        }
    }
    event.upstream_error = out.answer.upstream_error;
    event.latency_us = static_cast<uint32_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                                 std::chrono::steady_clock::now() - started)
                                                 .count());
    try {
        if (engine) {
            if (vault_metadata::Telemetry* telemetry = engine->telemetry(settings)) telemetry->record_call(event);
        }
    } catch (...) {
    }
    php_vault_metadata_flush_log();
}

int64_t slot_ttl(const FetchOutcome& out, const Slot& slot) {
    return vault_metadata::edge_ttl(slot.meta(), out.options.max_age, out.now, slot.how == Served::stale);
}

const std::string& last_correlation_id() {
    return last_id();
}

void forget_last_correlation_id() {
    last_id().clear();
}

}  // namespace vault_metadata_php
