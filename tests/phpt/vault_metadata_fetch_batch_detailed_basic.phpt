--TEST--
vault_metadata_fetch_batch_detailed(): fresh, stale_refreshed, stale and missing lists, quota_remaining and a correlation id
--EXTENSIONS--
vault_metadata
--SKIPIF--
<?php require __DIR__ . '/inc/skipif.inc'; ?>
--FILE--
<?php
require __DIR__ . '/inc/bootstrap.inc';
vm_setup('fetch_batch_detailed_basic');

function shape(array $d): string {
    $keys = array_keys($d) === ['fresh', 'stale_refreshed', 'stale', 'missing', 'quota_remaining', 'correlation_id'];
    $lists = $keys && array_is_list($d['fresh']) && array_is_list($d['stale_refreshed']) && array_is_list($d['stale'])
        && array_is_list($d['missing']) && count(array_filter($d['missing'], 'is_string')) === count($d['missing']);
    $items_ok = true;
    foreach ($keys ? [...$d['fresh'], ...$d['stale_refreshed'], ...$d['stale']] : [] as $item) {
        $items_ok = $items_ok && vm_item_problems($item) === [];
    }
    $types = $keys && is_int($d['quota_remaining']) && is_string($d['correlation_id'])
        && preg_match('/^[0-9a-f]{24}$/', $d['correlation_id']);
    return json_encode(['keys' => $keys, 'lists' => $lists, 'items' => $items_ok, 'types' => (bool)$types]);
}
$ids_of = fn(array $list) => array_column($list, 'video_id');

echo 'empty input: ', shape($e = vault_metadata_fetch_batch_detailed([])), ' ',
     json_encode([$e['fresh'], $e['stale_refreshed'], $e['stale'], $e['missing']]), "\n";

[$a, $b, $c] = vm_ids('normal', 3);
[$gone] = vm_ids('deleted', 1);

// Cold: fetched during the call -> stale_refreshed; omitted upstream -> missing.
$d1 = vault_metadata_fetch_batch_detailed([$a, $gone, $b], ['timeout_ms' => 10000]);
echo 'cold: ', shape($d1), "\n";
echo '  stale_refreshed ', json_encode($ids_of($d1['stale_refreshed']) === [$a, $b]),
     ', fresh ', count($d1['fresh']), ', stale ', count($d1['stale']), ', missing ', json_encode($d1['missing'] === [$gone]), "\n";
echo '  items flagged not stale: ', json_encode(array_column($d1['stale_refreshed'], 'stale') === [false, false]), "\n";

// Warm $a and $b, cold $c, known-gone $gone.
$d2 = vault_metadata_fetch_batch_detailed([$c, $a, $gone, $b], ['timeout_ms' => 10000]);
echo 'mixed: ', shape($d2), "\n";
echo '  fresh ', json_encode($ids_of($d2['fresh']) === [$a, $b]), ', stale_refreshed ',
     json_encode($ids_of($d2['stale_refreshed']) === [$c]), ', stale ', count($d2['stale']),
     ', missing ', json_encode($d2['missing'] === [$gone]), "\n";

// A stale row whose refresh fails -> stale; a stale row refreshed -> stale_refreshed.
vm_faults([['type' => '400', 'count' => 1]]);
$d3 = vault_metadata_fetch_batch_detailed([$a, $b], ['max_age' => 0, 'timeout_ms' => 10000]);
echo 'refresh failed: ', shape($d3), "\n";
echo '  stale ', json_encode($ids_of($d3['stale']) === [$a, $b]), ', flagged ',
     json_encode(array_column($d3['stale'], 'stale') === [true, true]), ', ttl ', json_encode(array_column($d3['stale'], 'ttl')),
     ', others ', count($d3['fresh']) + count($d3['stale_refreshed']) + count($d3['missing']), "\n";
$d4 = vault_metadata_fetch_batch_detailed([$a, $b], ['max_age' => 0, 'timeout_ms' => 10000]);
echo 'refreshed: stale_refreshed ', json_encode($ids_of($d4['stale_refreshed']) === [$a, $b]), ', others ',
     count($d4['fresh']) + count($d4['stale']) + count($d4['missing']), "\n";
$d5 = vault_metadata_fetch_batch_detailed([$a, $b], ['max_age' => 0, 'allow_stale' => false, 'timeout_ms' => 10000]);
echo 'refreshed again (allow_stale false): ', json_encode($ids_of($d5['stale_refreshed']) === [$a, $b]), "\n";

// Not fetched in time and no cached row -> missing.
vm_config(['latency_ms' => 1500]);
[$slow] = vm_ids('normal', 1, 20);
$d6 = vault_metadata_fetch_batch_detailed([$a, $slow], ['timeout_ms' => 100]);
echo 'late: fresh ', json_encode($ids_of($d6['fresh']) === [$a]), ', missing ', json_encode($d6['missing'] === [$slow]), "\n";
vm_config(['latency_ms' => 0]);

// Correlation ids differ per call; quota_remaining counts the units spent.
$cids = array_map(fn($d) => $d['correlation_id'], [$e, $d1, $d2, $d3, $d4, $d5, $d6]);
echo 'correlation ids distinct: ', json_encode(count(array_unique($cids)) === count($cids)), "\n";
$c = vm_settle();
$q = vault_metadata_fetch_batch_detailed([])['quota_remaining'];
echo 'quota_remaining = 10000 - units spent: ', json_encode($q === 10000 - $c['units']), "\n";
if ($q !== 10000 - $c['units']) {
    echo "  quota_remaining $q, units {$c['units']}\n";
}
?>
--CLEAN--
<?php require __DIR__ . '/inc/bootstrap.inc'; vm_cleanup('fetch_batch_detailed_basic'); ?>
--EXPECT--
empty input: {"keys":true,"lists":true,"items":true,"types":true} [[],[],[],[]]
cold: {"keys":true,"lists":true,"items":true,"types":true}
  stale_refreshed true, fresh 0, stale 0, missing true
  items flagged not stale: true
mixed: {"keys":true,"lists":true,"items":true,"types":true}
  fresh true, stale_refreshed true, stale 0, missing true
refresh failed: {"keys":true,"lists":true,"items":true,"types":true}
  stale true, flagged true, ttl [0,0], others 0
refreshed: stale_refreshed true, others 0
refreshed again (allow_stale false): true
late: fresh true, missing true
correlation ids distinct: true
quota_remaining = 10000 - units spent: true
