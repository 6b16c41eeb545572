<?php
// pid.php: the worker's pid and time, without touching the extension.
echo json_encode(['pid' => getmypid(), 'now' => time(), 'loaded' => extension_loaded('vault_metadata')]), "\n";
