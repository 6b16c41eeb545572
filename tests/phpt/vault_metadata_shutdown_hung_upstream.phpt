--TEST--
vault_metadata: a process exits quickly (MSHUTDOWN is bounded) while upstream takes 30 s to answer
--EXTENSIONS--
vault_metadata
--SKIPIF--
<?php require __DIR__ . '/inc/skipif.inc'; ?>
--FILE--
<?php
require __DIR__ . '/inc/bootstrap.inc';
$db = vm_setup('shutdown_hung_upstream');
[$cached, $slow1, $slow2, $slow3] = vm_ids('normal', 4);

$child_ini = [
    '-d', 'vault_metadata.api_base=' . vm_emulator() . '/youtube/v3',
    '-d', 'vault_metadata.api_key=test-key',
    '-d', "vault_metadata.db_path=$db",
    '-d', "vault_metadata.quota_path=$db.quota",
];
// The child starts its engine with a cached id, then asks for the others with the given timeout.
$script = <<<'PHP'
<?php
$warm = vault_metadata_fetch_batch([$argv[2]], ['timeout_ms' => 10000]);
$ids = array_slice($argv, 3);
$t = hrtime(true);
$items = vault_metadata_fetch_batch($ids, ['timeout_ms' => (int)$argv[1]]);
$ms = (hrtime(true) - $t) / 1e6;
printf("%d+%d item(s), call %s\n", count($warm), count($items), $ms < (int)$argv[1] + 1000 ? 'within timeout + 1 s' : "took $ms ms");
PHP;

// Baseline: start-up and shutdown of a child that only reads the cache.
vault_metadata_fetch_batch([$cached], ['timeout_ms' => 10000]);
$file = tempnam(sys_get_temp_dir(), 'vm-phpt-child-');
file_put_contents($file, $script);
[$code, $out, $baseline] = vm_run_php([...$child_ini, $file, '10000', $cached, $cached]);
echo "baseline: exit $code, $out";

vm_config(['latency_ms' => 30000]);
// A bound on top of what start-up and shutdown cost anyway (large under valgrind, which traces children).
$bound = vm_under_valgrind() ? max(3 * $baseline, $baseline + 10000) : 5000;

[$code, $out, $ms] = vm_run_php([...$child_ini, $file, '100', $cached, $slow1]);
echo "hung upstream, timeout_ms 100: exit $code, $out";
echo 'finished in under 5 s: ', json_encode($ms < $bound), "\n";

[$code, $out, $ms] = vm_run_php([...$child_ini, $file, '0', $cached, $slow2, $slow3]);
echo "hung upstream, timeout_ms 0: exit $code, $out";
echo 'finished in under 5 s: ', json_encode($ms < $bound), "\n";
@unlink($file);

$c = vm_counters(false);
echo 'the first slow call reached the emulator: ', json_encode($c['calls']['videos'] >= 2), "\n";

?>
--CLEAN--
<?php require __DIR__ . '/inc/bootstrap.inc'; vm_cleanup('shutdown_hung_upstream'); ?>
--EXPECT--
baseline: exit 0, 1+1 item(s), call within timeout + 1 s
hung upstream, timeout_ms 100: exit 0, 1+0 item(s), call within timeout + 1 s
finished in under 5 s: true
hung upstream, timeout_ms 0: exit 0, 1+0 item(s), call within timeout + 1 s
finished in under 5 s: true
the first slow call reached the emulator: true
