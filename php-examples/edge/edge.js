// The edge Worker's logic, as a module that runs in a Cloudflare Worker and in Node 18+ alike
// (standard fetch, Request, Response; msgpack from @msgpack/msgpack).
//
// GET /v1/video/<id>  ->  the item as JSON, for the viewer's country:
//   - from the edge cache, keyed by video and country, when it holds the answer;
//   - else one POST <origin>/v1/metadata/batch with {"video_ids": [id]} as msgpack, then
//       200  Cache-Control: public, max-age=<item ttl>, stale-while-revalidate=600
//       451  when the country may not see the video (blocked, or outside an allow-list),
//            Cache-Control: public, max-age=60
//       404  no item (deleted, private, never existed, or YouTube unreachable and never cached),
//            Cache-Control: public, max-age=30
//       503  the origin is unreachable or answered an error, Cache-Control: no-store
//
// In a Worker:   export { default } from './edge.js';   with the variable ORIGIN_URL set.

import { decode, encode } from '@msgpack/msgpack';

export const ORIGIN_PATH = '/v1/metadata/batch';
export const VIDEO_PATH = /^\/v1\/video\/([^/]+)$/;
export const STALE_WHILE_REVALIDATE = 600;
export const UNAVAILABLE_MAX_AGE = 60;
export const MISSING_MAX_AGE = 30;
export const ORIGIN_TIMEOUT_MS = 5000;
const VIDEO_ID = /^[A-Za-z0-9_-]{11}$/;

/** The viewer's country, upper case: Cloudflare's request.cf.country, else the CF-IPCountry header.
 *  Unknown (XX), Tor (T1) and anything not two letters become "XX", which no allow-list names. */
export function countryKey(request) {
  const raw = request.cf?.country ?? request.headers.get('CF-IPCountry') ?? '';
  const code = String(raw).trim().toUpperCase();
  return /^[A-Z]{2}$/.test(code) ? code : 'XX';
}

/** The edge cache key of one video for one country. */
export function cacheKey(requestUrl, videoId, country) {
  const url = new URL(requestUrl);
  return new Request(`${url.origin}/v1/video/${videoId}?country=${country}`, { method: 'GET' });
}

/** vault_metadata_available(): false when the country is blocked, or an allow-list exists without it. */
export function isAvailable(item, country) {
  const code = String(country).toUpperCase();
  const named = (list) => list.some((c) => String(c).toUpperCase() === code);
  if (named(item.blocked_countries ?? [])) return false;
  if (Array.isArray(item.allowed_countries) && !named(item.allowed_countries)) return false;
  return true;
}

/** Cache-Control of an item the viewer may see: its ttl (0 for a stale item) as max-age. */
export function cacheControl(item) {
  const ttl = Math.max(0, Math.trunc(Number(item.ttl) || 0));
  return `public, max-age=${ttl}, stale-while-revalidate=${STALE_WHILE_REVALIDATE}`;
}

/** max-age of a Cache-Control header value, or null. */
export function maxAge(header) {
  const m = /(?:^|,)\s*max-age=(\d+)/i.exec(header ?? '');
  return m ? Number(m[1]) : null;
}

export class OriginError extends Error {
  constructor(message, status = 0, body = null) {
    super(message);
    this.name = 'OriginError';
    this.status = status;
    this.body = body;
  }
}

/** POSTs {"video_ids": ids} as msgpack to the origin; returns {answer, correlationId}.
 *  Throws OriginError for anything but a 200 msgpack answer (network, timeout, 4xx, 5xx). */
export async function fetchBatch(originUrl, ids, { fetch = globalThis.fetch, timeoutMs = ORIGIN_TIMEOUT_MS } = {}) {
  let response;
  try {
    response = await fetch(new URL(ORIGIN_PATH, originUrl), {
      method: 'POST',
      headers: { 'Content-Type': 'application/msgpack', Accept: 'application/msgpack' },
      body: encode({ video_ids: ids }),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (e) {
    throw new OriginError(`origin unreachable: ${e.message}`);
  }
  const bytes = new Uint8Array(await response.arrayBuffer());
  const type = response.headers.get('Content-Type') ?? '';
  let body = null;
  if (type.startsWith('application/msgpack')) {
    try {
      body = decode(bytes);
    } catch (e) {
      throw new OriginError(`origin answered malformed msgpack: ${e.message}`, response.status);
    }
  }
  if (response.status !== 200 || body === null || typeof body !== 'object') {
    throw new OriginError(`origin answered ${response.status}`, response.status, body);
  }
  return { answer: body, correlationId: response.headers.get('X-Vault-Correlation-Id') };
}

/** The item of `videoId` in an origin answer, or null when it is in `missing`. */
export function findItem(answer, videoId) {
  for (const list of [answer.fresh, answer.stale_refreshed, answer.stale]) {
    const item = (list ?? []).find((i) => i.video_id === videoId);
    if (item) return item;
  }
  return null;
}

function json(status, value, headers) {
  return new Response(JSON.stringify(value), {
    status,
    headers: { 'Content-Type': 'application/json; charset=utf-8', ...headers },
  });
}

/** The answer for one video and the request's country. `cache` is a Cache API object
 *  (caches.default in a Worker) or null; `waitUntil` keeps the cache write alive after the answer. */
export async function handleVideo(request, videoId, { originUrl, cache = null, fetch = globalThis.fetch, waitUntil = null } = {}) {
  if (!VIDEO_ID.test(videoId)) {
    return json(404, { error: 'not_found' }, { 'Cache-Control': `public, max-age=${MISSING_MAX_AGE}` });
  }
  const country = countryKey(request);
  const key = cacheKey(request.url, videoId, country);
  if (cache) {
    const hit = await cache.match(key);
    if (hit) {
      const response = new Response(hit.body, hit);
      response.headers.set('X-Vault-Edge-Cache', 'hit');
      return response;
    }
  }

  let fetched;
  try {
    fetched = await fetchBatch(originUrl, [videoId], { fetch });
  } catch (e) {
    return json(503, { error: 'origin_unavailable' }, { 'Cache-Control': 'no-store', 'Retry-After': '30' });
  }
  const item = findItem(fetched.answer, videoId);
  const common = { 'X-Vault-Edge-Cache': 'miss', 'X-Vault-Country': country };
  if (fetched.correlationId) common['X-Vault-Correlation-Id'] = fetched.correlationId;
  let response;
  if (item === null) {
    response = json(404, { error: 'not_found', video_id: videoId },
      { ...common, 'Cache-Control': `public, max-age=${MISSING_MAX_AGE}` });
  } else if (!isAvailable(item, country)) {
    response = json(451, { error: 'unavailable_in_country', video_id: videoId, country },
      { ...common, 'Cache-Control': `public, max-age=${UNAVAILABLE_MAX_AGE}` });
  } else {
    response = json(200, item, { ...common, 'Cache-Control': cacheControl(item) });
  }
  if (cache && (maxAge(response.headers.get('Cache-Control')) ?? 0) > 0) {
    const put = cache.put(key, response.clone());
    if (waitUntil) waitUntil(put);
    else await put;
  }
  return response;
}

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    const route = VIDEO_PATH.exec(url.pathname);
    if (request.method !== 'GET' || !route) {
      return json(404, { error: 'not_found' }, { 'Cache-Control': `public, max-age=${MISSING_MAX_AGE}` });
    }
    let videoId;
    try {
      videoId = decodeURIComponent(route[1]);
    } catch {
      videoId = '';  // malformed %-escape: not a video id
    }
    return handleVideo(request, videoId, {
      originUrl: env.ORIGIN_URL,
      cache: globalThis.caches?.default ?? null,
      waitUntil: ctx?.waitUntil?.bind(ctx) ?? null,
    });
  },
};
