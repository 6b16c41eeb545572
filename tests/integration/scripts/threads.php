<?php
// threads.php?ids=...&max_age=: the worker's pid, thread and fd counts before and after one fetch.
require __DIR__ . '/common.inc.php';
try {
    $threads_before = it_threads();
    $fds_before = it_fds();
    $ids = it_ids($_GET);
    $result = $ids ? vault_metadata_fetch_batch($ids, it_options($_GET)) : [];
    it_reply([
        'pid' => getmypid(),
        'count' => count($result),
        'threads_before' => $threads_before,
        'threads_after' => it_threads(),
        'fds_before' => $fds_before,
        'fds_after' => it_fds(),
    ]);
} catch (Throwable $e) {
    it_reply(['pid' => getmypid(), 'error' => get_class($e) . ': ' . $e->getMessage()], 500);
}
