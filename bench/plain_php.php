<?php
// Baseline (b): the cache a PHP developer writes without the extension.
// PDO SQLite (WAL, same pragmas as the extension), one row per video holding the item as a
// msgpack blob; misses are fetched with file_get_contents + json_decode in chunks of 50
// (sequentially: plain PHP has no parallel HTTP without curl_multi) and written back in one
// transaction. A warm read is one prepared `SELECT … WHERE video_id IN (?,…)`, one
// msgpack_unpack per row, and the three per-read keys (ttl, fetched_at, stale).
//
// Used by warm.php (`--impl=plain`); runnable alone to fill a cache:
//   EMULATOR_URL=… php bench/plain_php.php DB_PATH ID,ID,…

declare(strict_types=1);

require_once __DIR__ . '/lib.php';

final class PlainCache {
    private PDO $db;
    /** @var array<int, PDOStatement> prepared IN-lists by batch size */
    private array $select = [];

    public function __construct(string $path, private int $max_age = 3600, bool $persistent = false) {
        $this->db = new PDO('sqlite:' . $path, null, null,
            [PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION, PDO::ATTR_PERSISTENT => $persistent]);
        $this->db->exec('PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA temp_store=MEMORY;'
            . ' PRAGMA busy_timeout=5000');
        $this->db->exec('CREATE TABLE IF NOT EXISTS videos (video_id TEXT PRIMARY KEY,'
            . ' fetched_at INTEGER NOT NULL, payload BLOB NOT NULL) WITHOUT ROWID');
    }

    /** Array keyed by video id, in request order, only ids that have metadata. */
    public function fetch_batch(array $ids): array {
        $n = count($ids);
        $stmt = $this->select[$n] ??= $this->db->prepare(
            'SELECT video_id, fetched_at, payload FROM videos WHERE video_id IN (' . rtrim(str_repeat('?,', $n), ',') . ')');
        $stmt->execute($ids);
        $now = time();
        $rows = [];
        foreach ($stmt->fetchAll(PDO::FETCH_NUM) as [$id, $fetched_at, $payload]) {
            if ($now - $fetched_at < $this->max_age) {
                $item = msgpack_unpack($payload);
                $item['ttl'] = $this->max_age - ($now - $fetched_at);
                $item['fetched_at'] = $fetched_at;
                $item['stale'] = false;
                $rows[$id] = $item;
            }
        }
        $missing = [];
        $out = [];
        foreach ($ids as $id) {
            if (isset($rows[$id])) {
                $out[$id] = $rows[$id];
            } else {
                $missing[] = $id;
            }
        }
        if ($missing) {
            // Cold path: unordered merge is fine for the benchmark's warm reads, which never get here.
            foreach ($this->fill($missing) as $id => $item) {
                $out[$id] = $item;
            }
        }
        return $out;
    }

    /** Fetches ids from the API (chunks of 50, one after another) and stores them. */
    public function fill(array $ids): array {
        $now = time();
        $got = [];
        foreach (array_chunk($ids, 50) as $chunk) {
            foreach (bench_videos_list($chunk) as $v) {
                $got[$v['id']] = bench_item_from_api($v);
            }
        }
        $insert = $this->db->prepare('INSERT INTO videos (video_id, fetched_at, payload) VALUES (?, ?, ?)'
            . ' ON CONFLICT (video_id) DO UPDATE SET fetched_at = excluded.fetched_at, payload = excluded.payload');
        $this->db->beginTransaction();
        foreach ($got as $id => $item) {
            $insert->bindValue(1, $id);
            $insert->bindValue(2, $now, PDO::PARAM_INT);
            $insert->bindValue(3, msgpack_pack($item), PDO::PARAM_LOB);
            $insert->execute();
        }
        $this->db->commit();
        foreach ($got as $id => &$item) {
            $item += ['ttl' => $this->max_age, 'fetched_at' => $now, 'stale' => false];
        }
        return $got;
    }
}

if (realpath($_SERVER['SCRIPT_FILENAME'] ?? '') === __FILE__) {
    $cache = new PlainCache($argv[1]);
    $ids = explode(',', $argv[2]);
    printf("%d items cached\n", count($cache->fill($ids)));
}
