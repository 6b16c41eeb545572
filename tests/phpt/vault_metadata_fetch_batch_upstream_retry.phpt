--TEST--
vault_metadata_fetch_batch(): 5xx, dropped connections and rate limits are retried and the batch succeeds
--EXTENSIONS--
vault_metadata
--SKIPIF--
<?php require __DIR__ . '/inc/skipif.inc'; ?>
--FILE--
<?php
require __DIR__ . '/inc/bootstrap.inc';
vm_setup('fetch_batch_upstream_retry');

$faults = [
    '503' => ['type' => '503', 'count' => 1],
    '500' => ['type' => '500', 'count' => 1],
    '502 html' => ['type' => '502', 'count' => 1, 'html' => true],
    'drop' => ['type' => 'drop', 'count' => 1],
    '403_rate' => ['type' => '403_rate', 'count' => 1],
    '429' => ['type' => '429', 'count' => 1],
];
$n = 0;
foreach ($faults as $label => $fault) {
    $ids = vm_ids('normal', 3, 10 * $n++);
    vm_faults([$fault]);
    $calls = vm_calls();
    $items = vault_metadata_fetch_batch($ids, ['timeout_ms' => 10000]);
    echo "$label: keys ", json_encode(array_keys($items) === $ids), ', stale ',
         json_encode(array_values(array_unique(array_column($items, 'stale')))), ', calls ', vm_calls() - $calls, "\n";
}
$c = vm_counters();
echo 'faults applied: ', $c['faults_applied'], "\n";
?>
--CLEAN--
<?php require __DIR__ . '/inc/bootstrap.inc'; vm_cleanup('fetch_batch_upstream_retry'); ?>
--EXPECT--
503: keys true, stale [false], calls 2
500: keys true, stale [false], calls 2
502 html: keys true, stale [false], calls 2
drop: keys true, stale [false], calls 2
403_rate: keys true, stale [false], calls 2
429: keys true, stale [false], calls 2
faults applied: 6
