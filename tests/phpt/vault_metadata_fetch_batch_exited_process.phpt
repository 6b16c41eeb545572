--TEST--
vault_metadata_fetch_batch(): ids another process was fetching when it exited are fetched at once by the next caller
--EXTENSIONS--
vault_metadata
--SKIPIF--
<?php require __DIR__ . '/inc/skipif.inc'; ?>
--FILE--
<?php
require __DIR__ . '/inc/bootstrap.inc';
$db = vm_setup('fetch_batch_exited_process');
$ids = vm_ids('normal', 3);

// A worker asks for ids while upstream is slow, gives up after 100 ms, and its process ends
// (the request is over, the worker is recycled) before the answer comes.
vm_config(['latency_ms' => 2000]);
[$code, $out] = vm_run_php([
    '-d', 'vault_metadata.api_base=' . vm_emulator() . '/youtube/v3', '-d', 'vault_metadata.api_key=test-key',
    '-d', "vault_metadata.db_path=$db", '-d', "vault_metadata.quota_path=$db.quota",
    '-r', 'echo count(vault_metadata_fetch_batch(array_slice($argv, 1), ["timeout_ms" => 100])), " item(s)\n";',
    ...$ids]);
echo "exited worker: exit $code, $out";
echo 'its call reached the emulator: ', vm_calls(), "\n";

// Upstream is fast again. The next worker must not wait on the one that is gone.
vm_config(['latency_ms' => 0]);
$t0 = vm_ms();
$items = vault_metadata_fetch_batch($ids, ['timeout_ms' => 3000]);
$elapsed = vm_ms() - $t0;
echo 'next worker: ', json_encode(array_keys($items) === $ids), ', within 2 s: ', json_encode($elapsed < 2000),
     ', videos calls: ', vm_calls(), "\n";
vm_settle(); // the exited worker's call still sleeps in the emulator
?>
--CLEAN--
<?php require __DIR__ . '/inc/bootstrap.inc'; vm_cleanup('fetch_batch_exited_process'); ?>
--EXPECT--
exited worker: exit 0, 0 item(s)
its call reached the emulator: 1
next worker: true, within 2 s: true, videos calls: 2
