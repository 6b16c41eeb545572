<?php

/**
 * @generate-class-entries
 * @undocumentable
 */

/**
 * Metadata of YouTube videos, keyed by video id in the order of first appearance.
 * Fresh rows come from the local cache; stale and missing ids are fetched upstream
 * in chunks of at most 50, waiting at most `timeout_ms`.
 */
function vault_metadata_fetch_batch(array $video_ids, array $options = []): array {}

/**
 * The same work as vault_metadata_fetch_batch(), answered as
 * fresh / stale_refreshed / stale / missing / quota_remaining / correlation_id.
 */
function vault_metadata_fetch_batch_detailed(array $video_ids, array $options = []): array {}

/** Whether an item may be shown in the given ISO 3166-1 alpha-2 country. */
function vault_metadata_available(array $item, string $country): bool {}

/**
 * Queues a refresh of the stale and missing ids without waiting (trending lists);
 * returns how many ids were queued.
 */
function vault_metadata_prefetch(array $video_ids): int {}

/**
 * Today's upstream quota, shared by every worker of the host:
 * limit, used, remaining, resets_at (next midnight America/Los_Angeles), exhausted, backend.
 */
function vault_metadata_quota(): array {}

/**
 * The edge origin's POST /v1/metadata/batch in one call: takes the raw request body
 * ({"video_ids": [...]} as msgpack or JSON, chosen by $content_type), fetches like
 * vault_metadata_fetch_batch_detailed(), and returns the raw answer body in the request's
 * encoding (fresh / stale_refreshed / stale / missing / quota_remaining), or an error body
 * (400 bad body, 415 unknown content type). Returns
 * ['status' => int, 'content_type' => string, 'body' => string, 'correlation_id' => string].
 * Options: max_age, timeout_ms, allow_stale (as for fetch), max_body_bytes (default 65536),
 * content_length (the request's declared length, so a body PHP did not buffer is still refused as too large).
 */
function vault_metadata_origin_respond(string $body, string $content_type, array $options = []): array {}

/** The correlation id of this request's last fetch call, for a response header; null before the first. */
function vault_metadata_last_correlation_id(): ?string {}

/**
 * The host's aggregates of the last $minutes minutes (1 to 60), newest first, and their total:
 * calls, ids, fresh/stale/refreshed/missing, cache hit ratio, latency percentiles,
 * upstream calls and errors by class, quota units spent.
 */
function vault_metadata_stats(int $minutes = 1): array {}

/** The host's counters, histogram and gauges in Prometheus text exposition format. */
function vault_metadata_metrics(): string {}

/**
 * Whether this worker can do its job (`ok`), and what that rests on: the cache, the connection
 * pool, the background thread, the last upstream success and error, the quota.
 */
function vault_metadata_health(): array {}

/** The host's call events of the last 60 seconds, newest first; only one correlation id's when given. */
function vault_metadata_events(string $correlation_id = ""): array {}

/** Queues URLs for IndexNow (absolute http(s) URLs on vault_metadata.indexnow_host); returns how many were accepted. */
function vault_indexnow_submit(array $urls): int {}
