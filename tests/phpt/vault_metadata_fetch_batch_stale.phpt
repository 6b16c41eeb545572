--TEST--
vault_metadata_fetch_batch(): a failed refresh serves the cached row as stale (ttl 0) unless allow_stale is false; max_age 0 refetches
--EXTENSIONS--
vault_metadata
--SKIPIF--
<?php require __DIR__ . '/inc/skipif.inc'; ?>
--FILE--
<?php
require __DIR__ . '/inc/bootstrap.inc';
vm_setup('fetch_batch_stale');

$ids = vm_ids('normal', 3);
$cold = vault_metadata_fetch_batch($ids, ['timeout_ms' => 10000]);
echo 'cold: ', count($cold), ' items, videos calls: ', vm_calls(), "\n";

// Upstream fails on every call from now on.
vm_faults([['type' => '500', 'count' => 1000]]);
$t0 = vm_ms();
$stale = vault_metadata_fetch_batch($ids, ['max_age' => 0, 'timeout_ms' => 5000]);
$elapsed = vm_ms() - $t0;
echo 'stale keys: ', json_encode(array_keys($stale) === $ids), "\n";
$flags = [];
foreach ($stale as $id => $item) {
    $flags[] = [$item['stale'], $item['ttl'], $item['title'] === $cold[$id]['title'], $item['fetched_at'] === $cold[$id]['fetched_at'],
                vm_item_problems($item, 0)];
}
echo 'stale items: ', json_encode(array_values(array_unique($flags, SORT_REGULAR))), "\n";
echo 'returned within the timeout: ', json_encode($elapsed < 5000 + 1000), "\n";
$calls_failed = vm_calls();
echo 'went upstream (and was retried): ', json_encode($calls_failed >= 2), "\n";

$none = vault_metadata_fetch_batch($ids, ['max_age' => 0, 'timeout_ms' => 5000, 'allow_stale' => false]);
echo 'allow_stale false: ', json_encode($none), "\n";
$d = vault_metadata_fetch_batch_detailed($ids, ['max_age' => 0, 'timeout_ms' => 5000, 'allow_stale' => false]);
echo 'detailed, allow_stale false: missing ', json_encode($d['missing'] === $ids), ', stale ', count($d['stale']), "\n";

// The failures did not touch the rows: a normal max_age still finds them fresh, with no call.
vm_faults([]);
$calls = vm_calls();
$fresh = vault_metadata_fetch_batch($ids);
echo 'fresh again: ', json_encode(array_keys($fresh) === $ids && !array_filter($fresh, fn($i) => $i['stale'])),
     ', new calls: ', vm_calls() - $calls, "\n";

// Upstream healthy: max_age 0 refetches, and a change upstream comes through.
vm_edit_video(['id' => $ids[1], 'patch' => ['snippet' => ['title' => 'Patched title ✓']]]);
sleep(1); // so that the refetch has a later fetched_at
$calls = vm_calls();
$before = time();
$re = vault_metadata_fetch_batch($ids, ['max_age' => 0, 'timeout_ms' => 10000]);
echo 'refetch calls: ', vm_calls() - $calls, "\n";
echo 'refetched title: ', $re[$ids[1]]['title'] ?? 'absent', "\n";
echo 'refetched flags: ', json_encode(array_values(array_unique(array_map(
    fn($i) => [$i['stale'], $i['ttl'], $i['fetched_at'] >= $before], $re), SORT_REGULAR))), "\n";
?>
--CLEAN--
<?php require __DIR__ . '/inc/bootstrap.inc'; vm_cleanup('fetch_batch_stale'); ?>
--EXPECT--
cold: 3 items, videos calls: 1
stale keys: true
stale items: [[true,0,true,true,[]]]
returned within the timeout: true
went upstream (and was retried): true
allow_stale false: []
detailed, allow_stale false: missing true, stale 0
fresh again: true, new calls: 0
refetch calls: 1
refetched title: Patched title ✓
refetched flags: [[false,0,true]]
