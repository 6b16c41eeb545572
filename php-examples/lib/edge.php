<?php
/**
 * Edge headers for pages rendered from one item: the same rules as the Worker (php-examples/edge/).
 *
 *   $country = vault_edge_country();                 // from Cloudflare's CF-IPCountry header
 *   if (!vault_edge_guard($item, $country)) {        // 451 + a short Cache-Control already sent
 *       render_unavailable_in_your_country();
 *       return;
 *   }
 *   // Cache-Control: public, max-age=<item ttl>, stale-while-revalidate=600 already sent
 *
 * An edge that caches these pages must key them by country as well as by URL (the Worker does);
 * a page rendered for a blocked country must never be served to another.
 */

declare(strict_types=1);

/** How long an edge may serve an item past its ttl while it revalidates. */
const VAULT_EDGE_STALE_WHILE_REVALIDATE = 600;
/** Cache lifetime of a 451: short, since restrictions change and the ttl of a refused item is moot. */
const VAULT_EDGE_UNAVAILABLE_MAX_AGE = 60;
/** Cache lifetime of "no such video" (deleted, private, or YouTube unreachable and never cached). */
const VAULT_EDGE_MISSING_MAX_AGE = 30;

/**
 * The viewer's ISO 3166-1 alpha-2 country, upper case, from CF-IPCountry (or $header_value).
 * Cloudflare sends XX when it does not know and T1 for Tor: both, and anything that is not two
 * letters, become "XX", a code no allow-list names, so an allow-listed video is refused and a
 * merely block-listed one is shown.
 */
function vault_edge_country(?string $header_value = null): string
{
    $value = strtoupper(trim($header_value ?? (string) ($_SERVER['HTTP_CF_IPCOUNTRY'] ?? '')));
    return preg_match('/^[A-Z]{2}$/', $value) === 1 ? $value : 'XX';
}

/** Cache-Control for an item the viewer may see: its ttl is the edge lifetime (0 for a stale item). */
function vault_edge_cache_control(array $item): string
{
    $ttl = max(0, (int) ($item['ttl'] ?? 0));
    return sprintf('public, max-age=%d, stale-while-revalidate=%d', $ttl, VAULT_EDGE_STALE_WHILE_REVALIDATE);
}

/**
 * Sends the status and Cache-Control for $item seen from $country. Returns false after answering
 * 451 Unavailable For Legal Reasons (the caller renders a short notice and stops), true after
 * setting Cache-Control from the item's ttl (the caller renders the page).
 */
function vault_edge_guard(array $item, string $country): bool
{
    if (!vault_metadata_available($item, vault_edge_country($country))) {
        http_response_code(451);
        header(sprintf('Cache-Control: public, max-age=%d', VAULT_EDGE_UNAVAILABLE_MAX_AGE));
        return false;
    }
    header('Cache-Control: ' . vault_edge_cache_control($item));
    return true;
}

/** For "no item": a short public cache, so a deleted video or an upstream outage is retried soon. */
function vault_edge_missing(): void
{
    http_response_code(404);
    header(sprintf('Cache-Control: public, max-age=%d', VAULT_EDGE_MISSING_MAX_AGE));
}
