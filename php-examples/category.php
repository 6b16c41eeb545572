<?php
/**
 * Category page controller: up to 50 videos, GET /category?c=SLUG.
 *
 * One vault_metadata_fetch_batch() call for the whole page (ids the cache lacks go upstream in one
 * videos.list call). It returns only the ids it has items for, in the order asked, and never throws
 * for an operational failure, so the failure paths are
 *   - some ids missing (deleted, or YouTube unreachable for them): skipped; the page is cached
 *     briefly so that it fills in soon;
 *   - every id missing (YouTube down and nothing cached): 503 + Retry-After, not cached;
 *   - videos the viewer's country may not see: left out of the list.
 * The page is cached for the smallest ttl among the videos shown (an edge keys it by country).
 */

declare(strict_types=1);

require __DIR__ . '/lib/catalog.php';
require __DIR__ . '/lib/edge.php';
require __DIR__ . '/lib/view.php';

const CATEGORY_PAGE_SIZE = 50;
const CATEGORY_PARTIAL_MAX_AGE = 60;

$slug = $_GET['c'] ?? '';
$category = is_string($slug) ? vault_example_category($slug) : null;
if ($category === null) {
    vault_edge_missing();
    vault_example_page('No such category', '<h1>No such category</h1>');
    return;
}
$ids = array_slice($category['video_ids'], 0, CATEGORY_PAGE_SIZE);

try {
    $videos = vault_metadata_fetch_batch($ids, ['timeout_ms' => 1500]);
} catch (\ValueError | \TypeError $e) {
    // A malformed id in our own catalog: log it and render what the well-formed ids give.
    error_log('category ' . $slug . ': ' . $e->getMessage());
    $valid = array_values(array_filter($ids, static fn ($id) => preg_match('/^[A-Za-z0-9_-]{11}$/', $id) === 1));
    $videos = vault_metadata_fetch_batch($valid, ['timeout_ms' => 1500]);
} catch (\Throwable $e) {
    error_log('category ' . $slug . ': ' . $e->getMessage());
    $videos = [];
}

if ($ids !== [] && $videos === []) {
    http_response_code(503);
    header('Retry-After: 30');
    header('Cache-Control: no-store');
    vault_example_page($category['title'], '<h1>' . h($category['title']) . '</h1>'
        . '<p>Videos are temporarily unavailable. Try again in a minute.</p>');
    return;
}

$country = vault_edge_country();
$ttl = PHP_INT_MAX;
$rows = [];
foreach ($ids as $id) {
    $video = $videos[$id] ?? null;
    if ($video === null || !vault_metadata_available($video, $country)) {
        continue;
    }
    $ttl = min($ttl, $video['ttl']);
    $rows[] = sprintf(
        '<li class="video" data-video-id="%s"><a href="/watch?v=%s">%s</a> <span class="channel">%s</span> '
        . '<span class="meta">%s · %s views</span></li>',
        h($video['video_id']), h($video['video_id']), h($video['title']),
        h($video['channel_handle'] ?? $video['channel_title']),
        h(vault_example_duration($video['duration_seconds'])), h(vault_example_count($video['view_count']))
    );
}
if ($ttl === PHP_INT_MAX) {
    $ttl = CATEGORY_PARTIAL_MAX_AGE;  // nothing to show here (all blocked in this country): the list is still right
}
if (count($videos) < count(array_unique($ids))) {
    $ttl = min($ttl, CATEGORY_PARTIAL_MAX_AGE);  // some ids missing: maybe an outage, look again soon
}
header(sprintf('Cache-Control: public, max-age=%d, stale-while-revalidate=%d', $ttl, VAULT_EDGE_STALE_WHILE_REVALIDATE));
vault_example_page($category['title'], '<h1>' . h($category['title']) . '</h1>'
    . sprintf('<ol class="videos" data-count="%d">', count($rows)) . implode("\n", $rows) . '</ol>');
