<?php
// Baseline (a), the PHP side: the userland client of the replaced socket service.
// One persistent Unix-socket connection per process (the best case for this design: no
// connect per call), a 4-byte big-endian length prefix, msgpack_pack / msgpack_unpack.

declare(strict_types=1);

final class SocketClient {
    /** @var resource */
    private $conn;

    public function __construct(private string $path, private float $timeout = 5.0) {
        $this->connect();
    }

    private function connect(): void {
        $conn = stream_socket_client('unix://' . $this->path, $errno, $errstr, $this->timeout,
            STREAM_CLIENT_CONNECT | STREAM_CLIENT_PERSISTENT);
        if ($conn === false) {
            throw new RuntimeException("socket service at {$this->path}: $errstr ($errno)");
        }
        stream_set_timeout($conn, (int) $this->timeout);
        $this->conn = $conn;
    }

    /** Array keyed by video id, in request order, only ids that have metadata. */
    public function fetch_batch(array $ids): array {
        $body = msgpack_pack(['video_ids' => $ids]);
        if (fwrite($this->conn, pack('N', strlen($body)) . $body) === false) {
            throw new RuntimeException('socket service: write failed');
        }
        $length = unpack('N', $this->read_exactly(4))[1];
        return msgpack_unpack($this->read_exactly($length));
    }

    private function read_exactly(int $n): string {
        $buf = '';
        while (strlen($buf) < $n) {
            $part = fread($this->conn, $n - strlen($buf));
            if ($part === false || $part === '') {
                throw new RuntimeException('socket service: connection closed');
            }
            $buf .= $part;
        }
        return $buf;
    }
}
