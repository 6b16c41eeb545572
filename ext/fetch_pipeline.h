/* One fetch as every PHP entry point does it: the local item cache first, the engine for
 * the rest, one telemetry event, the log flushed. Shared by the fetch functions and the
 * edge origin, which differ only in how they read their input and write their answer. */
#ifndef VAULT_METADATA_FETCH_PIPELINE_H
#define VAULT_METADATA_FETCH_PIPELINE_H

#include "php_vault_metadata.h"

#include <string>
#include <vector>

#include "engine.h"
#include "local_cache.h"
#include "telemetry.h"

namespace vault_metadata_php {

/* Where the answer for one requested id came from. */
struct Slot {
    vault_metadata::Served how = vault_metadata::Served::fresh;
    bool missing = true;
    const LocalEntry* entry = nullptr;                  // a shared immutable item (fresh)
    const vault_metadata::ServedItem* served = nullptr;  // an item from the engine (when no entry)

    const vault_metadata::VideoMeta& meta() const { return entry ? local_cache_meta(entry) : served->meta; }
};

struct FetchOutcome {
    std::vector<std::string> ids;  // distinct, valid
    vault_metadata::FetchOptions options;
    std::vector<Slot> slots;       // one per id
    vault_metadata::BatchAnswer answer;
    int64_t now = 0;
    std::string correlation_id;
};

/* An int option of argument `arg_num`, at least `min`; throws (TypeError / ValueError) and
 * returns false otherwise. */
bool read_int_option(uint32_t arg_num, zval* value, const char* name, zend_long min, zend_long& out);

/* One of the fetch options (max_age, timeout_ms, allow_stale) of argument `arg_num` into
 * `options`. `*known` is false for any other key (the caller decides); false when it threw. */
bool read_fetch_option(uint32_t arg_num, zend_string* key, zval* value, vault_metadata::FetchOptions& options,
                       bool* known);

/* The settings of this request, read from INI on every call so that ini_set() works. */
vault_metadata::EngineSettings current_settings();

/* Runs the fetch for out.ids / out.options; never throws, never fails: what could not be
 * had is missing. `kind` labels the telemetry event. */
void run_fetch_pipeline(FetchOutcome& out, vault_metadata::CallKind kind);

/* The seconds an edge may keep this slot's item. */
int64_t slot_ttl(const FetchOutcome& out, const Slot& slot);

/* The correlation id of this request's last fetch call (empty before the first). */
const std::string& last_correlation_id();
void forget_last_correlation_id();

}  // namespace vault_metadata_php

#endif
