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
