<?php
/**
 * Watch page controller: one video, GET /watch?v=VIDEO_ID.
 *
 * One vault_metadata_fetch_batch() call for one id. It never throws for an operational failure
 * (YouTube down, quota used up, cache unusable): it returns what it has, so the failure paths are
 *   - no item:    deleted, private, never existed, or YouTube unreachable and never cached
 *                 -> 404 with a short public cache, so the edge asks again soon;
 *   - stale item: YouTube unreachable but a cached row exists -> rendered, with ttl 0 (max-age=0);
 *   - not visible in the viewer's country -> 451 with a short cache (lib/edge.php).
 * Only a programming error (a bad id slipping through, the extension missing) throws: 503.
 */

declare(strict_types=1);

require __DIR__ . '/lib/edge.php';
require __DIR__ . '/lib/view.php';

$id = $_GET['v'] ?? '';
if (!is_string($id) || preg_match('/^[A-Za-z0-9_-]{11}$/', $id) !== 1) {
    vault_edge_missing();
    vault_example_page('Video not found', '<h1>Video not found</h1>');
    return;
}

try {
    $videos = vault_metadata_fetch_batch([$id]);
} catch (\Throwable $e) {
    error_log('watch: ' . $e->getMessage());
    http_response_code(503);
    header('Retry-After: 30');
    header('Cache-Control: no-store');
    vault_example_page('Temporarily unavailable', '<h1>This page is temporarily unavailable</h1>');
    return;
}

$video = $videos[$id] ?? null;  // an all-digit id is an integer key: $videos[$id] finds it either way
if ($video === null) {
    vault_edge_missing();
    vault_example_page('Video unavailable',
        '<h1>This video is unavailable</h1><p>It may have been removed, or YouTube could not be reached. '
        . 'Try again in a minute.</p>');
    return;
}

if (!vault_edge_guard($video, vault_edge_country())) {
    vault_example_page('Not available in your country',
        '<h1>This video is not available in your country</h1>');
    return;
}

$channel = $video['channel_handle'] ?? $video['channel_title'];
$body = sprintf(
    '<article class="video" data-video-id="%s" data-stale="%d">'
    . '<h1>%s</h1><p class="channel">%s</p>'
    . '<p class="meta">%s · %s views · %s likes · published %s</p>%s%s</article>',
    h($video['video_id']),
    $video['stale'] ? 1 : 0,
    h($video['title']),
    h($channel),
    h(vault_example_duration($video['duration_seconds'])),
    h(vault_example_count($video['view_count'])),
    h(vault_example_count($video['like_count'])),
    h(gmdate('Y-m-d', $video['published_at'])),
    $video['embeddable']
        ? sprintf('<iframe src="https://www.youtube-nocookie.com/embed/%s" title="%s" allowfullscreen></iframe>',
            h($video['video_id']), h($video['title']))
        : sprintf('<p><a href="https://www.youtube.com/watch?v=%s">Watch on YouTube</a></p>', h($video['video_id'])),
    $video['stale'] ? '<p class="stale">Counts may be out of date.</p>' : ''
);
vault_example_page($video['title'], $body);
