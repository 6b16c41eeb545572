--TEST--
vault_metadata_fetch_batch(): a cold fetch returns the contract's items, a second call is served from the cache
--EXTENSIONS--
vault_metadata
--SKIPIF--
<?php require __DIR__ . '/inc/skipif.inc'; ?>
--FILE--
<?php
require __DIR__ . '/inc/bootstrap.inc';
vm_setup('fetch_batch_basic');

$ids = vm_ids('normal', 5);
$raw = [];
foreach ($ids as $id) {
    $raw[$id] = vm_video($id);
}

$before = time();
$items = vault_metadata_fetch_batch($ids, ['timeout_ms' => 10000]);
$after = time();

echo 'keys in request order: ', array_keys($items) === $ids ? 'yes' : 'no: ' . implode(',', array_keys($items)), "\n";
$ok = true;
foreach ($ids as $id) {
    $item = $items[$id] ?? null;
    if ($item === null) {
        echo "$id missing\n";
        $ok = false;
        continue;
    }
    $ok = vm_check_item($id, $item, $raw[$id]) && $ok;
    if ($item['stale'] !== false) { echo "$id: stale\n"; $ok = false; }
    if ($item['fetched_at'] < $before || $item['fetched_at'] > $after) {
        echo "$id: fetched_at {$item['fetched_at']} not in [$before, $after]\n";
        $ok = false;
    }
    if ($item['ttl'] < 0 || $item['ttl'] > 3600) { echo "$id: ttl {$item['ttl']}\n"; $ok = false; }
}
echo 'items match the API: ', $ok ? 'yes' : 'no', "\n";

$c = vm_counters();
echo 'videos calls: ', $c['calls']['videos'], "\n";
$fetches = array_intersect_key($c['id_fetches'], array_flip($ids));
echo 'each id fetched once: ', (count($fetches) === 5 && array_unique(array_values($fetches)) === [1]) ? 'yes' : 'no', "\n";

// Warm: nothing goes upstream, the answer is the same.
$again = vault_metadata_fetch_batch($ids);
echo 'videos calls after the warm call: ', vm_calls(), "\n";
// channel_handle may have become known in between (channels.list runs after the videos call).
echo 'warm answer identical (but ttl and channel_handle): ';
$same = array_keys($again) === $ids;
foreach ($ids as $id) {
    $a = $items[$id]; $b = $again[$id] ?? [];
    unset($a['ttl'], $b['ttl'], $a['channel_handle'], $b['channel_handle']);
    $same = $same && $a === $b;
    $same = $same && isset($again[$id]['ttl']) && $again[$id]['ttl'] <= $items[$id]['ttl'] && $again[$id]['ttl'] >= 0;
}
echo $same ? 'yes' : 'no', "\n";

// A smaller max_age bounds the ttl.
$short = vault_metadata_fetch_batch($ids, ['max_age' => 30]);
$ttl_ok = count($short) === 5;
foreach ($short as $item) {
    $ttl_ok = $ttl_ok && $item['ttl'] >= 0 && $item['ttl'] <= 30 && $item['stale'] === false;
}
echo 'ttl within max_age 30: ', $ttl_ok ? 'yes' : 'no', "\n";
echo 'videos calls at the end: ', vm_calls(), "\n";
?>
--CLEAN--
<?php require __DIR__ . '/inc/bootstrap.inc'; vm_cleanup('fetch_batch_basic'); ?>
--EXPECT--
keys in request order: yes
items match the API: yes
videos calls: 1
each id fetched once: yes
videos calls after the warm call: 1
warm answer identical (but ttl and channel_handle): yes
ttl within max_age 30: yes
videos calls at the end: 1
