--TEST--
vault_metadata_fetch_batch(): a 429 with Retry-After: 1 is retried no sooner than a second later
--EXTENSIONS--
vault_metadata
--SKIPIF--
<?php require __DIR__ . '/inc/skipif.inc'; ?>
--FILE--
<?php
require __DIR__ . '/inc/bootstrap.inc';
vm_setup('fetch_batch_upstream_retry_after');

$ids = vm_ids('normal', 2);
vm_faults([['type' => '429', 'count' => 1, 'retry_after' => 1]]);
$t0 = vm_ms();
$items = vault_metadata_fetch_batch($ids, ['timeout_ms' => 5000]);
$elapsed = vm_ms() - $t0;
$c = vm_counters();
echo 'keys: ', json_encode(array_keys($items) === $ids), "\n";
echo 'calls: ', $c['calls']['videos'], "\n";
$requests = vm_video_requests($c);
echo 'statuses: ', implode(',', array_column($requests, 'status')), "\n";
$t = array_column($requests, 't');
$gap = count($t) === 2 ? $t[1] - $t[0] : -1;
echo 'retry at least 1 s after the 429: ', json_encode($gap >= 0.98), "\n";
echo 'call took at least 1 s: ', json_encode($elapsed >= 980), ", and less than the timeout: ", json_encode($elapsed < 5000 + 1000), "\n";
?>
--CLEAN--
<?php require __DIR__ . '/inc/bootstrap.inc'; vm_cleanup('fetch_batch_upstream_retry_after'); ?>
--EXPECT--
keys: true
calls: 2
statuses: 429,200
retry at least 1 s after the 429: true
call took at least 1 s: true, and less than the timeout: true
