<?php
// Test helper: the edge helper of php-examples/lib/edge.php applied to one item, which is echoed as
// JSON so that the test can compare the Cache-Control it set with the item's ttl, exactly.
declare(strict_types=1);
require __DIR__ . '/../../../php-examples/lib/edge.php';
$id = (string) ($_GET['v'] ?? '');
$item = vault_metadata_fetch_batch([$id])[$id] ?? null;
header('Content-Type: application/json');
if ($item === null) {
    vault_edge_missing();
    echo '{}';
    return;
}
$visible = vault_edge_guard($item, vault_edge_country());
echo json_encode(['visible' => $visible, 'item' => $item], JSON_UNESCAPED_UNICODE | JSON_THROW_ON_ERROR);
