--TEST--
vault_metadata_fetch_batch(): a channel handle that lands late does not bring back an older copy of the row
--EXTENSIONS--
vault_metadata
--SKIPIF--
<?php require __DIR__ . '/inc/skipif.inc'; ?>
--FILE--
<?php
require __DIR__ . '/inc/bootstrap.inc';
vm_setup('fetch_batch_channel_handle_late');

[$x, $y] = vm_ids('normal', 2);
// channels.list (asked after the videos call, for the handles) answers a second late.
vm_faults([['type' => 'slow', 'delay_ms' => 1000, 'endpoint' => 'channels', 'count' => 10]]);
$first = vault_metadata_fetch_batch([$x, $y], ['timeout_ms' => 10000]);
echo 'first: ', json_encode(array_keys($first) === [$x, $y]), "\n";

// Meanwhile upstream changes: $x gets a new title, $y is deleted; a refetch learns both.
vm_edit_video(['id' => $x, 'patch' => ['snippet' => ['title' => 'Newer title']]]);
vm_edit_video(['id' => $y, 'delete' => true]);
$re = vault_metadata_fetch_batch([$x, $y], ['max_age' => 0, 'timeout_ms' => 10000]);
echo 'refetch: ', json_encode(array_keys($re) === [$x]), ', title: ', $re[$x]['title'] ?? '-', "\n";

// The late handles land; give any per-process copy time to be checked against the cache again.
$c = vm_settle();
echo 'channels.list answered: ', json_encode($c['calls']['channels'] >= 1), "\n";
sleep(3);
$calls = vm_calls();
$now = vault_metadata_fetch_batch([$x, $y], ['timeout_ms' => 10000]);
echo 'afterwards: only x ', json_encode(array_keys($now) === [$x]), "\n";
echo 'title of x: ', $now[$x]['title'] ?? '-', "\n";
echo 'new videos calls: ', vm_calls() - $calls, "\n";
// What another worker sees: the shared cache.
[$code, $out] = vm_run_php([
    '-d', 'vault_metadata.api_base=' . vm_emulator() . '/youtube/v3', '-d', 'vault_metadata.api_key=test-key',
    '-d', 'vault_metadata.db_path=' . ini_get('vault_metadata.db_path'),
    '-d', 'vault_metadata.quota_path=' . ini_get('vault_metadata.quota_path'),
    '-r', '$r = vault_metadata_fetch_batch($argv[1] ? [$argv[1], $argv[2]] : [], ["timeout_ms" => 0]); echo json_encode(array_map(fn($i) => $i["title"], $r));',
    $x, $y]);
echo 'another process sees: ', $out === json_encode([$x => 'Newer title']) ? 'the same' : $out, "\n";
?>
--CLEAN--
<?php require __DIR__ . '/inc/bootstrap.inc'; vm_cleanup('fetch_batch_channel_handle_late'); ?>
--EXPECT--
first: true
refetch: true, title: Newer title
channels.list answered: true
afterwards: only x true
title of x: Newer title
new videos calls: 0
another process sees: the same
