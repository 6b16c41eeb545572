<?php
/**
 * Where the site keeps its lists of video ids. In production this is your own database (the
 * category's 50 ids are a query away); here it is a JSON file, so that the examples run as they are:
 *
 *   {"music": {"title": "Music", "video_ids": ["dQw4w9WgXcQ", ...]}, ...}
 *
 * read from the path in the environment variable VAULT_EXAMPLE_CATALOG, else catalog.json beside
 * this file.
 */

declare(strict_types=1);

/** @return array{title: string, video_ids: list<string>}|null  null when there is no such category */
function vault_example_category(string $slug): ?array
{
    static $catalog = null;
    if ($catalog === null) {
        $path = getenv('VAULT_EXAMPLE_CATALOG') ?: __DIR__ . '/catalog.json';
        $json = is_readable($path) ? file_get_contents($path) : false;
        $catalog = $json === false ? [] : (json_decode($json, true) ?: []);
    }
    $category = $catalog[$slug] ?? null;
    if (!is_array($category) || !is_array($category['video_ids'] ?? null)) {
        return null;
    }
    return [
        'title' => (string) ($category['title'] ?? $slug),
        'video_ids' => array_values(array_filter($category['video_ids'], 'is_string')),
    ];
}
