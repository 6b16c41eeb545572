--TEST--
vault_metadata_fetch_batch(): an api_base nobody listens on costs no exception, an empty answer, and little time
--EXTENSIONS--
vault_metadata
--SKIPIF--
<?php require __DIR__ . '/inc/skipif.inc'; ?>
--FILE--
<?php
require __DIR__ . '/inc/bootstrap.inc';
$db = vm_setup('fetch_batch_upstream_unreachable');

// Start the engine (loop thread, cache, quota ledger) first: the timed calls measure waiting.
echo 'warm-up: ', count(vault_metadata_fetch_batch(vm_ids('normal', 1, 90), ['timeout_ms' => 10000])), "\n";

// A port that was just free: bind it, note it, close it.
$server = stream_socket_server('tcp://127.0.0.1:0', $errno, $errstr);
$port = (int)substr(strrchr(stream_socket_get_name($server, false), ':'), 1);
fclose($server);
ini_set('vault_metadata.api_base', "http://127.0.0.1:$port/youtube/v3");

$ids = vm_ids('normal', 3);
$other = vm_ids('normal', 3, 3);
$timeout = (int)ini_get('vault_metadata.fetch_timeout_ms');
try {
    $t0 = vm_ms();
    $items = vault_metadata_fetch_batch($ids);
    $elapsed = vm_ms() - $t0;
    echo 'answer: ', json_encode($items), "\n";
    echo "within fetch_timeout_ms ($timeout) + 1 s: ", json_encode($elapsed < $timeout + 1000), "\n";
    $t0 = vm_ms();
    $d = vault_metadata_fetch_batch_detailed($other, ['timeout_ms' => 500]);
    $elapsed = vm_ms() - $t0;
    echo 'detailed missing: ', json_encode($d['missing'] === $other), ', within 1.5 s: ', json_encode($elapsed < 1500), "\n";
} catch (Throwable $e) {
    echo 'threw ', get_class($e), ': ', $e->getMessage(), "\n";
}

// Nothing was negative-cached: with upstream back, the ids come. (The first call waited for its
// retries to end; ids still in flight would join that attempt instead.)
ini_set('vault_metadata.api_base', vm_emulator() . '/youtube/v3');
$items = vault_metadata_fetch_batch($ids, ['timeout_ms' => 10000]);
echo 'upstream back: ', json_encode(array_keys($items) === $ids), ', calls ', vm_calls() - 1, "\n";
?>
--CLEAN--
<?php require __DIR__ . '/inc/bootstrap.inc'; vm_cleanup('fetch_batch_upstream_unreachable'); ?>
--EXPECT--
warm-up: 1
answer: []
within fetch_timeout_ms (2000) + 1 s: true
detailed missing: true, within 1.5 s: true
upstream back: true, calls 1
