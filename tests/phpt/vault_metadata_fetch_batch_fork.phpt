--TEST--
vault_metadata_fetch_batch(): a child forked after the parent used the extension fetches on its own and exits quickly
--EXTENSIONS--
vault_metadata
pcntl
--SKIPIF--
<?php
require __DIR__ . '/inc/skipif.inc';
if (!function_exists('pcntl_fork')) die('skip pcntl_fork() not available');
?>
--FILE--
<?php
require __DIR__ . '/inc/bootstrap.inc';
vm_setup('fetch_batch_fork');
$report = vm_db_path('fetch_batch_fork') . '.child.json';
@unlink($report);

[$a, $b, $c, $d, $e, $f] = vm_ids('normal', 6);
$first = vault_metadata_fetch_batch([$a], ['timeout_ms' => 10000]);
echo 'parent before fork: ', count($first), ' item, videos calls: ', vm_calls(), "\n";

/** Forks; the child runs $child and exits with its return value. Returns [exit status, ms until reaped]. */
function run_child(callable $child, ?int $limit = null): array {
    $start = vm_ms();
    $pid = pcntl_fork();
    if ($pid === -1) {
        return [-1, 0];
    }
    if ($pid === 0) {
        $code = 3;
        try {
            $code = $child();
        } catch (Throwable $t) {
            file_put_contents($GLOBALS['report'], json_encode(['threw' => get_class($t) . ': ' . $t->getMessage()]));
        }
        exit($code);
    }
    $limit ??= vm_under_valgrind() ? 60000 : 15000;
    do {
        $done = pcntl_waitpid($pid, $status, WNOHANG);
        if ($done === 0) usleep(10000);
    } while ($done === 0 && vm_ms() - $start < $limit);
    if ($done === 0) {
        posix_kill($pid, SIGKILL);
        pcntl_waitpid($pid, $status);
        return ['hung', vm_ms() - $start];
    }
    return [pcntl_wifexited($status) ? pcntl_wexitstatus($status) : 'signal ' . pcntl_wtermsig($status), vm_ms() - $start];
}

// 1. After the parent fetched: the child fetches new ids through its own engine.
[$status, $ms] = run_child(function () use ($a, $b, $c, $report) {
    $items = vault_metadata_fetch_batch([$a, $b, $c], ['timeout_ms' => 10000]);
    $out = array_map(fn($i) => $i['stale'], $items);
    file_put_contents($report, json_encode($out));
    return array_keys($items) === [$a, $b, $c] ? 0 : 4;
});
$bound = vm_under_valgrind() ? 30000 : 5000;
echo "child 1 exit: $status, quick: ", json_encode($ms < $bound), "\n";
echo 'child 1 saw: ', json_encode(json_decode((string)@file_get_contents($report), true) === [$a => false, $b => false, $c => false]), "\n";
@unlink($report);
echo 'videos calls: ', vm_calls(), "\n";

// The parent still works: what the child wrote is in the shared cache, new ids are fetched.
$items = vault_metadata_fetch_batch([$b, $c], ['timeout_ms' => 10000]);
echo 'parent reads the child\'s rows: ', json_encode(array_keys($items) === [$b, $c]), ', videos calls: ', vm_calls(), "\n";
$items = vault_metadata_fetch_batch([$d], ['timeout_ms' => 10000]);
echo 'parent fetches after the fork: ', json_encode(array_keys($items) === [$d]), ', videos calls: ', vm_calls(), "\n";

// 2. Forked while the parent's loop thread is busy with a fetch of its own (claiming, reserving
// quota, sending): whatever that thread held at the fork must not block the child. A few tries,
// each child bounded.
vm_config(['latency_ms' => 700]);
$results = [];
$extra = vm_ids('normal', 10, 100);
for ($try = 0; $try < 5; $try++) {
    [$e, $f] = [$extra[2 * $try], $extra[2 * $try + 1]];
    vault_metadata_fetch_batch([$e], ['timeout_ms' => 0]);
    usleep($try * 2000);
    [$status, $ms] = run_child(function () use ($e, $f, $report) {
        $items = vault_metadata_fetch_batch([$f, $e], ['timeout_ms' => vm_under_valgrind() ? 20000 : 5000]);
        file_put_contents($report, json_encode(array_keys($items)));
        return isset($items[$f]) ? 0 : 5;
    }, vm_under_valgrind() ? 60000 : 8000);
    $seen = json_decode((string)@file_get_contents($report), true);
    @unlink($report);
    $results[] = [$status, $ms < $bound, is_array($seen) && in_array($f, $seen, true)];
    if ($status !== 0) {
        break;
    }
}
echo 'children forked during a fetch: ', json_encode(array_values(array_unique($results, SORT_REGULAR))), "\n";
vm_config(['latency_ms' => 0]);
$items = vault_metadata_fetch_batch([$e, $f, $a], ['timeout_ms' => 10000]);
echo 'parent after them: ', json_encode(array_keys($items) === [$e, $f, $a]), "\n";
?>
--CLEAN--
<?php
require __DIR__ . '/inc/bootstrap.inc';
vm_cleanup('fetch_batch_fork');
@unlink(vm_db_path('fetch_batch_fork') . '.child.json');
?>
--EXPECT--
parent before fork: 1 item, videos calls: 1
child 1 exit: 0, quick: true
child 1 saw: true
videos calls: 2
parent reads the child's rows: true, videos calls: 2
parent fetches after the fork: true, videos calls: 3
children forked during a fetch: [[0,true,true]]
parent after them: true
