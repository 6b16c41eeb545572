// node --test php-examples/edge/
//
// The pure parts run anywhere. The live parts need the origin of tests/web/run.sh (which sets
// VAULT_ORIGIN_URL and VAULT_EMULATOR_URL); without those variables they are skipped.

import assert from 'node:assert/strict';
import { describe, it, before } from 'node:test';
import { decode, encode } from '@msgpack/msgpack';

import worker, {
  cacheControl, cacheKey, countryKey, fetchBatch, findItem, handleVideo, isAvailable, maxAge,
  MISSING_MAX_AGE, OriginError, STALE_WHILE_REVALIDATE, UNAVAILABLE_MAX_AGE,
} from './edge.js';

const ORIGIN = process.env.VAULT_ORIGIN_URL;
const EMULATOR = process.env.VAULT_EMULATOR_URL;
const live = ORIGIN && EMULATOR ? {} : { skip: 'VAULT_ORIGIN_URL / VAULT_EMULATOR_URL not set (tests/web/run.sh sets them)' };

const ITEM_KEYS = [
  'video_id', 'title', 'channel_id', 'channel_title', 'channel_handle', 'published_at', 'duration_seconds',
  'view_count', 'like_count', 'comment_count', 'category_id', 'live_broadcast_content', 'age_restricted',
  'licensed_content', 'embeddable', 'made_for_kids', 'privacy_status', 'allowed_countries', 'blocked_countries',
  'ttl', 'fetched_at', 'stale',
];

/** A Cache API stand-in (match / put by URL), like caches.default. */
class MemoryCache {
  constructor() { this.entries = new Map(); }
  async match(request) {
    const hit = this.entries.get(new Request(request).url);
    return hit ? hit.clone() : undefined;
  }
  async put(request, response) { this.entries.set(new Request(request).url, response.clone()); }
}

/** fetch that counts the calls it passes on. */
function countingFetch() {
  const f = async (...args) => { f.calls += 1; return fetch(...args); };
  f.calls = 0;
  return f;
}

function viewer(videoId, country) {
  const headers = country === undefined ? {} : { 'CF-IPCountry': country };
  return new Request(`https://edge.example/v1/video/${videoId}`, { headers });
}

async function emulatorIds(kind, count, start = 0) {
  const r = await fetch(`${EMULATOR}/_control/ids?kind=${kind}&start=${start}&count=${count}`);
  return (await r.json()).ids;
}

async function originItem(videoId) {
  const { answer } = await fetchBatch(ORIGIN, [videoId]);
  return findItem(answer, videoId);
}

/** A two-letter code that is not in `list`. */
function countryOutside(list) {
  for (const c of ['FR', 'DE', 'US', 'JP', 'BR', 'IN', 'ZA', 'AU', 'CA', 'MX', 'NG', 'SE']) {
    if (!list.includes(c)) return c;
  }
  throw new Error('no country outside the list');
}

describe('pure edge logic', () => {
  it('takes the country from cf.country, else CF-IPCountry, and maps the rest to XX', () => {
    assert.equal(countryKey(new Request('https://e.x/', { headers: { 'CF-IPCountry': 'fr' } })), 'FR');
    const withCf = new Request('https://e.x/', { headers: { 'CF-IPCountry': 'DE' } });
    Object.defineProperty(withCf, 'cf', { value: { country: 'JP' } });
    assert.equal(countryKey(withCf), 'JP');
    for (const odd of ['T1', 'XX', '', 'FRA', '1A', ' ']) {
      assert.equal(countryKey(new Request('https://e.x/', { headers: { 'CF-IPCountry': odd } })), 'XX', odd);
    }
    assert.equal(countryKey(new Request('https://e.x/')), 'XX');
  });

  it('keys the cache by video and country', () => {
    const a = cacheKey('https://edge.example/v1/video/abc?utm=1', 'dQw4w9WgXcQ', 'FR').url;
    const b = cacheKey('https://edge.example/v1/video/abc', 'dQw4w9WgXcQ', 'DE').url;
    assert.equal(a, 'https://edge.example/v1/video/dQw4w9WgXcQ?country=FR');
    assert.notEqual(a, b);
  });

  it('applies block-lists and allow-lists like vault_metadata_available()', () => {
    const open = { allowed_countries: null, blocked_countries: [] };
    assert.equal(isAvailable(open, 'FR'), true);
    assert.equal(isAvailable({ allowed_countries: null, blocked_countries: ['DE', 'RU'] }, 'de'), false);
    assert.equal(isAvailable({ allowed_countries: null, blocked_countries: ['DE'] }, 'FR'), true);
    assert.equal(isAvailable({ allowed_countries: ['FR', 'BE'], blocked_countries: [] }, 'BE'), true);
    assert.equal(isAvailable({ allowed_countries: ['FR', 'BE'], blocked_countries: [] }, 'US'), false);
    assert.equal(isAvailable({ allowed_countries: [], blocked_countries: [] }, 'FR'), false);
    assert.equal(isAvailable({ allowed_countries: ['FR'], blocked_countries: ['FR'] }, 'FR'), false);
    assert.equal(isAvailable({ allowed_countries: ['FR'], blocked_countries: [] }, 'XX'), false);
  });

  it('turns the ttl into Cache-Control', () => {
    assert.equal(cacheControl({ ttl: 321 }), `public, max-age=321, stale-while-revalidate=${STALE_WHILE_REVALIDATE}`);
    assert.equal(cacheControl({ ttl: 0 }), 'public, max-age=0, stale-while-revalidate=600');
    assert.equal(maxAge('public, max-age=42, stale-while-revalidate=600'), 42);
    assert.equal(maxAge('no-store'), null);
  });

  it('answers 503, not cached, when the origin cannot be reached', async () => {
    const response = await handleVideo(viewer('dQw4w9WgXcQ', 'FR'), 'dQw4w9WgXcQ',
      { originUrl: 'http://127.0.0.1:9', cache: new MemoryCache() });
    assert.equal(response.status, 503);
    assert.equal(response.headers.get('Cache-Control'), 'no-store');
    await assert.rejects(fetchBatch('http://127.0.0.1:9', ['dQw4w9WgXcQ']), OriginError);
  });

  it('refuses a malformed id without asking the origin', async () => {
    const f = countingFetch();
    for (const bad of ['short', 'dQw4w9WgXcQQ', 'dQw4w9WgX+Q', '../../etc/x']) {
      const response = await handleVideo(viewer(bad, 'FR'), bad, { originUrl: 'http://127.0.0.1:9', fetch: f });
      assert.equal(response.status, 404);
    }
    const routed = await worker.fetch(new Request('https://edge.example/v1/video/%E0%A4%A'), { ORIGIN_URL: 'http://127.0.0.1:9' });
    assert.equal(routed.status, 404);
    assert.equal(f.calls, 0);
  });
});

describe('against the live origin', live, () => {
  let normal, blocked, allowed, emptyAllowed, deleted;
  before(async () => {
    [normal] = await emulatorIds('normal', 1, 300);
    [blocked] = await emulatorIds('region_blocked', 1, 40);
    [allowed] = await emulatorIds('region_allowed', 1, 40);
    [emptyAllowed] = await emulatorIds('region_empty_allowed', 1, 40);
    [deleted] = await emulatorIds('deleted', 1, 40);
  });

  it('answers msgpack for 1 and 50 ids, the same as the JSON answer', async () => {
    const ids = [...(await emulatorIds('any', 48, 600)), ...(await emulatorIds('deleted', 2, 60))];
    const items = (a) => [...a.fresh, ...a.stale_refreshed, ...a.stale];
    const withoutTtl = (a) => items(a).map(({ ttl, ...rest }) => rest);
    for (const batch of [ids.slice(0, 1), ids]) {
      // Warm the cache, then wait for the channel handles, which land after the videos.
      let { answer, correlationId } = await fetchBatch(ORIGIN, batch);
      assert.match(correlationId, /^[0-9a-f]{24}$/);
      for (let tries = 0; tries < 40; tries++) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        const next = (await fetchBatch(ORIGIN, batch)).answer;
        const settled = JSON.stringify(withoutTtl(next)) === JSON.stringify(withoutTtl(answer));
        answer = next;
        if (settled) break;
      }
      // Each php-fpm worker re-reads a row it keeps in memory after at most 2 s.
      await new Promise((resolve) => setTimeout(resolve, 2100));
      answer = (await fetchBatch(ORIGIN, batch)).answer;
      assert.deepEqual(Object.keys(answer), ['fresh', 'stale_refreshed', 'stale', 'missing', 'quota_remaining']);
      const r = await fetch(new URL('/v1/metadata/batch', ORIGIN), {
        method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ video_ids: batch }),
      });
      assert.equal(r.status, 200);
      assert.match(r.headers.get('Content-Type'), /^application\/json/);
      const human = await r.json();
      assert.equal(items(answer).length + answer.missing.length, batch.length);
      for (const item of items(answer)) assert.deepEqual(Object.keys(item), ITEM_KEYS);
      assert.deepEqual(withoutTtl(human), withoutTtl(answer));
      assert.deepEqual(human.missing, answer.missing);
      items(human).forEach((item, i) => assert.ok(Math.abs(item.ttl - items(answer)[i].ttl) <= 1));
    }
  });

  it('answers 200 with Cache-Control max-age = the item ttl, then serves it from the edge cache', async () => {
    const cache = new MemoryCache();
    const f = countingFetch();
    const response = await handleVideo(viewer(normal, 'FR'), normal, { originUrl: ORIGIN, cache, fetch: f });
    assert.equal(response.status, 200);
    const item = await response.json();
    assert.equal(item.video_id, normal);
    assert.deepEqual(Object.keys(item), ITEM_KEYS);
    assert.equal(maxAge(response.headers.get('Cache-Control')), item.ttl);
    assert.equal(response.headers.get('Cache-Control'), cacheControl(item));
    assert.match(response.headers.get('Cache-Control'), /stale-while-revalidate=600$/);
    assert.match(response.headers.get('X-Vault-Correlation-Id'), /^[0-9a-f]{24}$/);
    assert.ok(item.ttl > 0);

    const again = await handleVideo(viewer(normal, 'FR'), normal, { originUrl: ORIGIN, cache, fetch: f });
    assert.equal(again.headers.get('X-Vault-Edge-Cache'), 'hit');
    assert.deepEqual(await again.json(), item);
    const otherCountry = await handleVideo(viewer(normal, 'DE'), normal, { originUrl: ORIGIN, cache, fetch: f });
    assert.equal(otherCountry.headers.get('X-Vault-Edge-Cache'), 'miss');
    assert.equal(f.calls, 2);
  });

  it('answers 451 for a blocked country and 200 elsewhere', async () => {
    const item = await originItem(blocked);
    assert.ok(item.blocked_countries.length > 0);
    const no = await handleVideo(viewer(blocked, item.blocked_countries[0].toLowerCase()), blocked, { originUrl: ORIGIN });
    assert.equal(no.status, 451);
    assert.equal(no.headers.get('Cache-Control'), `public, max-age=${UNAVAILABLE_MAX_AGE}`);
    const yes = await handleVideo(viewer(blocked, countryOutside(item.blocked_countries)), blocked, { originUrl: ORIGIN });
    assert.equal(yes.status, 200);
    assert.equal(maxAge(yes.headers.get('Cache-Control')), (await yes.json()).ttl);
  });

  it('answers 451 outside an allow-list and 200 inside it', async () => {
    const item = await originItem(allowed);
    assert.ok(item.allowed_countries.length > 0);
    const outside = countryOutside(item.allowed_countries);
    const no = await handleVideo(viewer(allowed, outside), allowed, { originUrl: ORIGIN });
    assert.equal(no.status, 451);
    assert.equal(maxAge(no.headers.get('Cache-Control')), UNAVAILABLE_MAX_AGE);
    const unknown = await handleVideo(viewer(allowed, 'T1'), allowed, { originUrl: ORIGIN });
    assert.equal(unknown.status, 451);
    const yes = await handleVideo(viewer(allowed, item.allowed_countries[0]), allowed, { originUrl: ORIGIN });
    assert.equal(yes.status, 200);
    const empty = await handleVideo(viewer(emptyAllowed, 'US'), emptyAllowed, { originUrl: ORIGIN });
    assert.equal(empty.status, 451);
  });

  it('answers 404 with a short cache for a video YouTube does not return', async () => {
    const response = await handleVideo(viewer(deleted, 'FR'), deleted, { originUrl: ORIGIN });
    assert.equal(response.status, 404);
    assert.equal(maxAge(response.headers.get('Cache-Control')), MISSING_MAX_AGE);
  });

  it('routes GET /v1/video/<id> through the default export', async () => {
    const response = await worker.fetch(viewer(normal, 'FR'), { ORIGIN_URL: ORIGIN }, { waitUntil() {} });
    assert.equal(response.status, 200);
    assert.equal((await response.json()).video_id, normal);
  });

  it('gets the documented 400 for a bad body, in msgpack', async () => {
    const r = await fetch(new URL('/v1/metadata/batch', ORIGIN), {
      method: 'POST', headers: { 'Content-Type': 'application/msgpack' }, body: encode({ videos: [normal] }),
    });
    assert.equal(r.status, 400);
    assert.equal(r.headers.get('Content-Type'), 'application/msgpack');
    const body = decode(new Uint8Array(await r.arrayBuffer()));
    assert.equal(body.error.code, 'unknown_key');
    assert.equal(body.error.status, 400);
  });
});
