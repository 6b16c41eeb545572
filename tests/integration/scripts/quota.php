<?php
// quota.php: vault_metadata_quota() of this worker, plus its pid.
require __DIR__ . '/common.inc.php';
try {
    $q = vault_metadata_quota();
    $q['pid'] = getmypid();
    $q['now'] = time();
    it_reply($q);
} catch (Throwable $e) {
    it_reply(['pid' => getmypid(), 'error' => get_class($e) . ': ' . $e->getMessage()], 500);
}
