<?php
// fetch.php?ids=a,b,c&timeout_ms=&max_age=&allow_stale=0|1&sleep_ms=&prefetch=1
// Echoes {pid, count, ids, stale, missing, bad, elapsed_ms, threads, fds}.
require __DIR__ . '/common.inc.php';
try {
    $ids = it_ids($_GET);
    $t0 = hrtime(true);
    if (!empty($_GET['prefetch'])) {
        $queued = vault_metadata_prefetch($ids);
        $out = ['pid' => getmypid(), 'queued' => $queued];
    } else {
        $result = vault_metadata_fetch_batch($ids, it_options($_GET));
        $out = it_summary($ids, $result, (hrtime(true) - $t0) / 1e6);
    }
    if (!empty($_GET['sleep_ms'])) usleep(1000 * (int)$_GET['sleep_ms']);
    $out['threads'] = it_threads();
    $out['fds'] = it_fds();
    it_reply($out);
} catch (Throwable $e) {
    it_reply(['pid' => getmypid(), 'error' => get_class($e) . ': ' . $e->getMessage()], 500);
}
