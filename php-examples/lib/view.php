<?php
/** The few HTML helpers the example controllers share. A real site has its templates instead. */

declare(strict_types=1);

function h(?string $text): string
{
    return htmlspecialchars((string) $text, ENT_QUOTES | ENT_SUBSTITUTE, 'UTF-8');
}

function vault_example_page(string $title, string $body): void
{
    header('Content-Type: text/html; charset=utf-8');
    echo "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>", h($title),
        "</title></head>\n<body>\n", $body, "\n</body></html>\n";
}

function vault_example_duration(int $seconds): string
{
    if ($seconds <= 0) {
        return 'live';
    }
    return $seconds >= 3600
        ? sprintf('%d:%02d:%02d', intdiv($seconds, 3600), intdiv($seconds % 3600, 60), $seconds % 60)
        : sprintf('%d:%02d', intdiv($seconds, 60), $seconds % 60);
}

function vault_example_count(?int $count): string
{
    return $count === null ? 'hidden' : number_format($count);
}
