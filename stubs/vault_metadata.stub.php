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
