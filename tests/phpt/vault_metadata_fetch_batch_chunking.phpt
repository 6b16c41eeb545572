--TEST--
vault_metadata_fetch_batch(): missing ids go out as ceil(n/50) calls, all chunks in parallel
--EXTENSIONS--
vault_metadata
--SKIPIF--
<?php require __DIR__ . '/inc/skipif.inc'; ?>
--FILE--
<?php
require __DIR__ . '/inc/bootstrap.inc';
vm_setup('fetch_batch_chunking');

$all = vm_ids('normal', 1120);
$ids = array_slice($all, 0, 120);

// 120 missing ids, 300 ms per answer: 3 calls at once.
vm_config(['latency_ms' => 300]);
$t0 = vm_ms();
$items = vault_metadata_fetch_batch($ids, ['timeout_ms' => 10000]);
$elapsed = vm_ms() - $t0;
$c = vm_counters();
echo 'videos calls: ', $c['calls']['videos'], "\n";
echo 'items: ', count($items), ', in order: ', json_encode(array_keys($items) === $ids), "\n";
$sizes = array_map(fn($r) => $r['ids'], vm_video_requests($c));
sort($sizes);
echo 'chunk sizes: ', implode(',', $sizes), "\n";
echo 'max concurrency >= 3: ', json_encode($c['max_concurrency_seen'] >= 3), "\n";
$ends = array_map(fn($r) => $r['t'], vm_video_requests($c));
$spread = max($ends) - min($ends);
// In parallel the three answers end together; one after the other they would be >= 600 ms apart.
echo 'answers ended together: ', json_encode($spread < 0.5), "\n";
echo 'each id fetched once: ', json_encode(array_values(array_unique(array_intersect_key($c['id_fetches'], array_flip($ids)))) === [1]
    && count(array_intersect_key($c['id_fetches'], array_flip($ids))) === 120), "\n";

// 1000 missing ids (max_batch): 20 calls.
vm_config(['latency_ms' => 0]);
$ids = array_slice($all, 120, 1000);
$items = vault_metadata_fetch_batch($ids, ['timeout_ms' => 20000]);
$c = vm_counters();
echo 'videos calls: ', $c['calls']['videos'] - 3, "\n";
echo 'items: ', count($items), ', in order: ', json_encode(array_keys($items) === $ids), "\n";
$sizes = array_count_values(array_map(fn($r) => $r['ids'], array_slice(vm_video_requests($c), 3)));
echo 'chunk sizes: ', json_encode($sizes), "\n";
echo 'no id above 50 per call, no 400: ', json_encode(!array_filter(vm_video_requests($c), fn($r) => $r['ids'] > 50 || $r['status'] !== 200)), "\n";
?>
--CLEAN--
<?php require __DIR__ . '/inc/bootstrap.inc'; vm_cleanup('fetch_batch_chunking'); ?>
--EXPECT--
videos calls: 3
items: 120, in order: true
chunk sizes: 20,50,50
max concurrency >= 3: true
answers ended together: true
each id fetched once: true
videos calls: 20
items: 1000, in order: true
chunk sizes: {"50":20}
no id above 50 per call, no 400: true
