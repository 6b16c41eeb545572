--TEST--
vault_metadata_fetch_batch(): transform edges (hidden counts, live durations, premieres, fractional dates, regions, flags)
--EXTENSIONS--
vault_metadata
--SKIPIF--
<?php require __DIR__ . '/inc/skipif.inc'; ?>
--FILE--
<?php
require __DIR__ . '/inc/bootstrap.inc';
vm_setup('fetch_batch_transforms');

$kinds = ['hidden_likes', 'no_comments', 'live', 'upcoming', 'premiere', 'fractional_published', 'region_allowed',
          'region_blocked', 'region_empty_allowed', 'age_restricted', 'made_for_kids', 'not_embeddable', 'unlisted',
          'huge_counts', 'day_long', 'normal'];
$by_kind = [];
$raw = [];
foreach ($kinds as $kind) {
    $by_kind[$kind] = vm_ids($kind, 2);
    foreach ($by_kind[$kind] as $id) {
        $raw[$id] = vm_video($id);
    }
}
$ids = array_keys($raw);
$items = vault_metadata_fetch_batch($ids, ['timeout_ms' => 10000]);
echo 'items: ', count($items) === count($ids) ? 'all' : count($items) . ' of ' . count($ids), "\n";
$all_match = true;
foreach ($ids as $id) {
    $all_match = isset($items[$id]) && vm_check_item($id, $items[$id], $raw[$id]) && $all_match;
}
echo 'every item matches the API: ', json_encode($all_match), "\n";

function each_kind(string $kind, callable $check): void {
    global $by_kind, $items, $raw;
    $results = [];
    foreach ($by_kind[$kind] as $id) {
        $results[] = isset($items[$id]) ? $check($items[$id], $raw[$id]) : 'absent';
    }
    echo "$kind: ", json_encode(array_values(array_unique($results, SORT_REGULAR))), "\n";
}

each_kind('hidden_likes', fn($i) => $i['like_count'] === null && is_int($i['view_count']));
each_kind('no_comments', fn($i) => $i['comment_count'] === null);
each_kind('live', fn($i) => [$i['live_broadcast_content'], $i['duration_seconds']]);
each_kind('upcoming', fn($i) => [$i['live_broadcast_content'], $i['duration_seconds']]);
each_kind('premiere', fn($i, $r) => [$i['live_broadcast_content'], $i['duration_seconds'], isset($r['contentDetails']['duration'])]);
each_kind('fractional_published', fn($i, $r) => [
    (bool)preg_match('/\.\d+Z$/', $r['snippet']['publishedAt']),
    $i['published_at'] === (new DateTimeImmutable(preg_replace('/\.\d+/', '', $r['snippet']['publishedAt'])))->getTimestamp(),
]);
each_kind('region_allowed', fn($i) => [is_array($i['allowed_countries']) && count($i['allowed_countries']) > 0, $i['blocked_countries']]);
each_kind('region_blocked', fn($i) => [$i['allowed_countries'], is_array($i['blocked_countries']) && count($i['blocked_countries']) > 0]);
each_kind('region_empty_allowed', fn($i) => [$i['allowed_countries'], $i['blocked_countries']]);
each_kind('age_restricted', fn($i) => $i['age_restricted']);
each_kind('made_for_kids', fn($i) => [$i['made_for_kids'], $i['comment_count']]);
each_kind('not_embeddable', fn($i) => $i['embeddable']);
each_kind('unlisted', fn($i) => $i['privacy_status']);
each_kind('huge_counts', fn($i) => is_int($i['view_count']) && $i['view_count'] > 2 ** 32);
each_kind('day_long', fn($i) => $i['duration_seconds'] >= 86400);
each_kind('normal', fn($i) => [$i['allowed_countries'], $i['blocked_countries'], $i['age_restricted'], $i['embeddable'],
                               $i['made_for_kids'], $i['privacy_status'], is_int($i['like_count']) && is_int($i['comment_count'])]);

// Absent booleans are false, an absent duration 0, an absent statistics part null counts.
$id = vm_ids('normal', 1, 10)[0];
vm_edit_video(['id' => $id, 'patch' => [
    'contentDetails' => ['licensedContent' => null, 'duration' => null, 'regionRestriction' => ['allowed' => ['de', 'FR']]],
    'status' => ['embeddable' => null, 'madeForKids' => null],
    'statistics' => null,
    'snippet' => ['publishedAt' => '2020-02-29T23:59:59.999999Z'],
]]);
$item = vault_metadata_fetch_batch([$id], ['timeout_ms' => 10000])[$id] ?? null;
echo 'patched: ', json_encode($item === null ? null : [
    $item['licensed_content'], $item['embeddable'], $item['made_for_kids'], $item['duration_seconds'],
    $item['view_count'], $item['like_count'], $item['comment_count'], $item['published_at'], $item['allowed_countries'],
]), "\n";
?>
--CLEAN--
<?php require __DIR__ . '/inc/bootstrap.inc'; vm_cleanup('fetch_batch_transforms'); ?>
--EXPECT--
items: all
every item matches the API: true
hidden_likes: [true]
no_comments: [true]
live: [["live",0]]
upcoming: [["upcoming",0]]
premiere: [["live",0,false]]
fractional_published: [[true,true]]
region_allowed: [[true,[]]]
region_blocked: [[null,true]]
region_empty_allowed: [[[],[]]]
age_restricted: [true]
made_for_kids: [[true,null]]
not_embeddable: [false]
unlisted: ["unlisted"]
huge_counts: [true]
day_long: [true]
normal: [[null,[],false,true,false,"public",true]]
patched: [false,false,false,0,null,null,null,1583020799,["de","FR"]]
