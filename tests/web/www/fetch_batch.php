<?php
// Test helper: vault_metadata_fetch_batch() of the ids in ?ids=A,B,C, as JSON (an object keyed by id).
declare(strict_types=1);
$ids = array_values(array_filter(explode(',', (string) ($_GET['ids'] ?? ''))));
header('Content-Type: application/json');
header('Cache-Control: no-store');
echo json_encode((object) vault_metadata_fetch_batch($ids), JSON_UNESCAPED_UNICODE | JSON_THROW_ON_ERROR);
