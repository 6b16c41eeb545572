<?php
// Reads the runs of callgrind.sh and prints its JSON:
//   php bench/callgrind_report.php DIR CALLS SIZE TOP
// Every number is (run with CALLS calls − run with 0 calls) / CALLS, so start-up and the
// first, untimed call (which opens the cache) cancel out.

declare(strict_types=1);

[$dir, $calls, $size, $top_n] = array_slice($argv, 1);
$calls = (int) $calls;

function total_ir(string $file): int {
    preg_match('/^summary:\s*(\d+)/m', file_get_contents($file), $m);
    return (int) $m[1];
}

function short_name(string $fn): string {
    $name = preg_replace('/^[^:]*\.(?:c|cc|cpp|h|S|tcc)?:|^\?\?\?:/', '', $fn);  // "file:"
    $name = preg_replace('/ \[clone [^\]]*\]/', '', $name);
    $name = str_replace('std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >', 'std::string', $name);
    $name = preg_replace('/\((?:[^()]|\((?:[^()]|\([^()]*\))*\))*\)(\s*const)?$/', '()', $name);  // arguments
    $name = str_replace(['(anonymous namespace)::', 'vault_metadata::'], '', $name);
    do {  // template arguments, innermost first
        $name = preg_replace('/<[^<>]*>/', '', $name, -1, $replaced);
    } while ($replaced);
    return preg_replace('/^\S+ (?=\S+\(\)$)/', '', $name);  // a return type left in front
}

/** Rows [name, object, Ir, explicit] of a callgrind_annotate listing. */
function listing(string $file): array {
    $out = [];
    foreach (file($file, FILE_IGNORE_NEW_LINES) as $line) {
        if (!preg_match('/^\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(.+?)(?:\s+\[([^\[\]]+)\])?\s*$/', $line, $m)
            || str_contains($m[2], 'PROGRAM TOTALS')) {
            continue;
        }
        // callgrind_annotate names no object for lines of header code (libstdc++, Zend) that the
        // compiler inlined into the extension: only the extension has such debug lines here.
        $explicit = isset($m[3]) && !str_starts_with($m[3], 'clone ');
        $object = $explicit ? basename($m[3]) : 'vault_metadata.so';
        $out[] = [short_name($m[2]), preg_replace('/\.so.*$/', '', $object), (int) str_replace(',', '', $m[1]), $explicit];
    }
    return $out;
}

/** Per-key (N − 0) / N, largest first. */
function diff_per_call(array $n, array $zero, int $calls): array {
    $out = [];
    foreach ($n as $k => $v) {
        $out[$k] = ($v - ($zero[$k] ?? 0)) / $calls;
    }
    arsort($out);
    return $out;
}

$self = $objects = $inclusive = [];
foreach (['0', (string) $calls] as $run) {
    foreach (listing("$dir/inside-$run.txt") as [$name, $object, $ir]) {
        $self[$run]["$name\t$object"] = ($self[$run]["$name\t$object"] ?? 0) + $ir;
        $objects[$run][$object] = ($objects[$run][$object] ?? 0) + $ir;
    }
    foreach (listing("$dir/inside-$run-inclusive.txt") as [$name, $object, $ir, $explicit]) {
        if ($explicit && $object === 'vault_metadata') {
            $inclusive[$run][$name] = max($inclusive[$run][$name] ?? 0, $ir);
        }
    }
}
$inside = (total_ir("$dir/inside-$calls.out") - total_ir("$dir/inside-0.out")) / $calls;

$top = [];
foreach (diff_per_call($self[(string) $calls], $self['0'], $calls) as $k => $ir) {
    [$name, $object] = explode("\t", $k);
    $top[] = ['function' => $name, 'object' => $object, 'ir_per_call' => (int) round($ir),
              'pct' => round($ir * 100 / $inside, 2)];
    if (count($top) >= (int) $top_n) {
        break;
    }
}
$by_object = [];
foreach (diff_per_call($objects[(string) $calls], $objects['0'], $calls) as $object => $ir) {
    $by_object[] = ['object' => $object, 'ir_per_call' => (int) round($ir), 'pct' => round($ir * 100 / $inside, 1)];
}
$incl = [];
foreach (diff_per_call($inclusive[(string) $calls], $inclusive['0'], $calls) as $name => $ir) {
    if (!str_starts_with($name, 'zif_') && count($incl) < 8) {
        $incl[] = ['function' => $name, 'ir_per_call' => (int) round($ir), 'pct' => round($ir * 100 / $inside, 2)];
    }
}

function syscalls(string $file): array {
    $out = [];
    foreach (file($file, FILE_IGNORE_NEW_LINES) as $line) {
        $f = preg_split('/\s+/', trim($line));
        if (count($f) >= 5 && is_numeric($f[0]) && preg_match('/^\d+$/', $f[3]) && end($f) !== 'total') {
            $out[end($f)] = (int) $f[3];
        }
    }
    return $out;
}
$sys = array_filter(diff_per_call(syscalls("$dir/strace-calls.txt"), syscalls("$dir/strace-zero.txt"), $calls),
    static fn ($v) => $v >= 0.05);

$zero = total_ir("$dir/zero.out");
$n = total_ir("$dir/calls.out");
echo json_encode([
    'calls' => $calls, 'size' => (int) $size, 'ir_zero' => $zero, 'ir_calls' => $n,
    'ir_per_call' => (int) round(($n - $zero) / $calls), 'ir_inside_per_call' => (int) round($inside),
    'top' => $top, 'by_object' => $by_object, 'inclusive' => $incl,
    'syscalls_per_call' => round(array_sum($sys), 2), 'syscalls' => array_map(static fn ($v) => round($v, 2), $sys),
], JSON_PRETTY_PRINT), "\n";
