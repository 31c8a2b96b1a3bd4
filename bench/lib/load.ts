/**
 * Load generators, all on 127.0.0.1 and all bounded by time AND count.
 *
 * - closedLoop: autocannon (N connections, each sends its next request when
 *   the last one is answered). Latencies come from autocannon's per-response
 *   event, in fractional milliseconds: its own histogram keeps whole ms only.
 * - paced: an open loop of our own. autocannon's `overallRate` is a
 *   per-connection budget per second that is spent as fast as possible at the
 *   start of every second (lib/httpClient.js: `reqsMadeThisSecond`), so its
 *   "1,000 req/s" is a burst of closed-loop traffic followed by silence, and
 *   the latencies it reports leave out the time a request waited for a free
 *   connection (coordinated omission). `paced` sends request i at
 *   t0 + i/rate whatever happens to the earlier ones, and reports latency
 *   both from the actual send and from the intended send (the honest one).
 * - streamLoad: SSE streams; time to first body byte, whole-stream time,
 *   events per second.
 * - failoverLoad: a closed loop that sorts answers by which upstream served
 *   them (the fake's reply text names it).
 *
 * The bench process generates the load on the same 2 cores as the proxy and
 * the fake upstream: every number here is a share of one small machine.
 */
import autocannon from 'autocannon';
import { Pool } from 'undici';
import { Samples, type LatencySummary } from './stats.ts';

export interface Hooks {
  /** Called when the measured window starts (after any warm-up) and ends: CPU readings go here. */
  onMeasureStart?: () => void;
  onMeasureEnd?: () => void;
}

export interface LoadResult {
  ok: number;
  errors: number;
  statuses: Record<string, number>;
  seconds: number;
  rps: number;
  latency: LatencySummary;
  /** Open loop: latency from the intended send time (includes any queueing in the client). */
  corrected?: LatencySummary;
  /** Open loop: the rate asked for, and requests not sent because too many were in flight. */
  offeredRps?: number;
  dropped?: number;
}

export interface RequestSpec {
  url: string;
  headers: Record<string, string>;
  body: string;
}

function bump(statuses: Record<string, number>, key: string | number): void {
  statuses[key] = (statuses[key] ?? 0) + 1;
}

// ------------------------------------------------------------ closed loop

export async function closedLoop(
  req: RequestSpec,
  o: { connections: number; seconds: number; maxRequests: number; warmupSeconds?: number } & Hooks,
): Promise<LoadResult> {
  const base = {
    url: req.url,
    method: 'POST',
    headers: req.headers,
    body: req.body,
    connections: o.connections,
    timeout: 15,
  };
  if (o.warmupSeconds && o.warmupSeconds > 0) {
    await autocannon({ ...base, duration: o.warmupSeconds, maxOverallRequests: Math.max(o.connections, Math.ceil(o.maxRequests / 4)) });
  }
  const lat = new Samples();
  const statuses: Record<string, number> = {};
  let ok = 0;
  let failed = 0;
  o.onMeasureStart?.();
  const t0 = performance.now();
  const inst = autocannon({ ...base, duration: o.seconds, maxOverallRequests: Math.max(o.connections, o.maxRequests) });
  inst.on('response', (_client, status, _bytes, ms) => {
    bump(statuses, status);
    if (status >= 200 && status < 300) {
      ok++;
      lat.push(ms);
    } else failed++;
  });
  const r = await inst;
  const seconds = (performance.now() - t0) / 1000;
  o.onMeasureEnd?.();
  const transport = r.errors + r.timeouts;
  if (transport > 0) statuses.transport = transport;
  return { ok, errors: failed + transport, statuses, seconds, rps: ok / seconds, latency: lat.summary() };
}

// -------------------------------------------------------------- open loop

function poolFor(url: string, connections: number): { pool: Pool; path: string } {
  const u = new URL(url);
  return { pool: new Pool(u.origin, { connections, pipelining: 1, keepAliveTimeout: 30_000, headersTimeout: 15_000, bodyTimeout: 15_000 }), path: u.pathname + u.search };
}

async function settle(inflight: () => number, maxMs: number): Promise<void> {
  const end = performance.now() + maxMs;
  while (inflight() > 0 && performance.now() < end) await new Promise((r) => setTimeout(r, 5));
}

export async function paced(
  req: RequestSpec,
  o: { rate: number; seconds: number; warmupSeconds?: number; connections?: number; maxInflight?: number; drainMs?: number } & Hooks,
): Promise<LoadResult> {
  const { pool, path } = poolFor(req.url, o.connections ?? 256);
  const interval = 1000 / o.rate;
  const warmN = Math.round(o.rate * (o.warmupSeconds ?? 0));
  const total = warmN + Math.round(o.rate * o.seconds);
  const maxInflight = o.maxInflight ?? 4096;
  const lat = new Samples();
  const corrected = new Samples();
  const statuses: Record<string, number> = {};
  let ok = 0;
  let failed = 0;
  let dropped = 0;
  let inflight = 0;
  let lastEnd = 0;

  const fire = (measured: boolean, intended: number): void => {
    inflight++;
    const sent = performance.now();
    pool
      .request({ path, method: 'POST', headers: req.headers, body: req.body })
      .then(async (res) => {
        await res.body.dump({ limit: 1 << 20 });
        return res.statusCode;
      })
      .then(
        (status) => {
          const end = performance.now();
          inflight--;
          if (!measured) return;
          lastEnd = end;
          bump(statuses, status);
          if (status >= 200 && status < 300) {
            ok++;
            lat.push(end - sent);
            corrected.push(end - intended);
          } else failed++;
        },
        () => {
          inflight--;
          if (!measured) return;
          lastEnd = performance.now();
          bump(statuses, 'transport');
          failed++;
        },
      );
  };

  const t0 = performance.now();
  const measureStart = t0 + warmN * interval;
  if (warmN === 0) o.onMeasureStart?.();
  await new Promise<void>((resolve) => {
    let i = 0;
    const tick = (): void => {
      const due = Math.min(total, Math.floor((performance.now() - t0) / interval) + 1);
      while (i < due) {
        const idx = i++;
        if (idx === warmN && warmN > 0) o.onMeasureStart?.();
        const measured = idx >= warmN;
        if (inflight >= maxInflight) {
          if (measured) dropped++;
          continue;
        }
        fire(measured, t0 + idx * interval);
      }
      if (i < total) setTimeout(tick, 1);
      else resolve();
    };
    tick();
  });
  await settle(() => inflight, o.drainMs ?? 10_000);
  o.onMeasureEnd?.();
  const seconds = Math.max(1e-3, (Math.max(lastEnd, performance.now() - 1) - measureStart) / 1000);
  await pool.destroy();
  return {
    ok,
    errors: failed + dropped + inflight,
    statuses,
    seconds,
    rps: ok / seconds,
    latency: lat.summary(),
    corrected: corrected.summary(),
    offeredRps: o.rate,
    dropped,
  };
}

// ---------------------------------------------------------- closed loops of our own

/** `concurrency` loops of `one` until the deadline; with `staggerMs`, loop i starts i × staggerMs late. */
async function closedWorkers(concurrency: number, seconds: number, maxRequests: number, one: () => Promise<void>, staggerMs = 0): Promise<void> {
  const deadline = performance.now() + seconds * 1000;
  let issued = 0;
  const worker = async (_: unknown, i: number): Promise<void> => {
    if (staggerMs > 0 && i > 0) await new Promise((r) => setTimeout(r, i * staggerMs));
    while (performance.now() < deadline && issued < maxRequests) {
      issued++;
      await one();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

export interface StreamResult extends LoadResult {
  ttfb: LatencySummary;
  eventsPerSecond: number;
  /** Streams that did not end with data: [DONE]. */
  incomplete: number;
}

export async function streamLoad(
  req: RequestSpec,
  o: {
    concurrency: number;
    seconds: number;
    maxRequests: number;
    warmupSeconds?: number;
    /** Start the streams this far apart, so that streams of a fixed length do not arrive in lockstep. */
    staggerMs?: number;
  } & Hooks,
): Promise<StreamResult> {
  const { pool, path } = poolFor(req.url, o.concurrency);
  const total = new Samples();
  const ttfb = new Samples();
  const statuses: Record<string, number> = {};
  let ok = 0;
  let failed = 0;
  let incomplete = 0;
  let events = 0;
  let measuring = false;
  const one = async (): Promise<void> => {
    const measured = measuring;
    const t0 = performance.now();
    try {
      const res = await pool.request({ path, method: 'POST', headers: req.headers, body: req.body });
      let first = 0;
      let n = 0;
      let tail = '';
      for await (const chunk of res.body) {
        if (first === 0) first = performance.now();
        const b = chunk as Buffer;
        for (let at = b.indexOf('\n\n'); at !== -1; at = b.indexOf('\n\n', at + 2)) n++;
        tail = (tail + b.toString('latin1', Math.max(0, b.length - 32))).slice(-32);
      }
      const end = performance.now();
      if (!measured) return;
      bump(statuses, res.statusCode);
      if (res.statusCode !== 200) {
        failed++;
        return;
      }
      if (!tail.includes('[DONE]')) {
        incomplete++;
        failed++;
        return;
      }
      ok++;
      events += n;
      ttfb.push(first - t0);
      total.push(end - t0);
    } catch {
      if (measured) {
        bump(statuses, 'transport');
        failed++;
      }
    }
  };
  if (o.warmupSeconds && o.warmupSeconds > 0) await closedWorkers(o.concurrency, o.warmupSeconds, Math.ceil(o.maxRequests / 4), one);
  measuring = true;
  o.onMeasureStart?.();
  const t0 = performance.now();
  await closedWorkers(o.concurrency, o.seconds, o.maxRequests, one, o.staggerMs);
  const seconds = (performance.now() - t0) / 1000;
  o.onMeasureEnd?.();
  await pool.destroy();
  return { ok, errors: failed, statuses, seconds, rps: ok / seconds, latency: total.summary(), ttfb: ttfb.summary(), eventsPerSecond: events / seconds, incomplete };
}

export interface FailoverResult extends LoadResult {
  /** Answered by the primary (no failover) and by the secondary (after the primary failed). */
  byPrimary: LatencySummary;
  bySecondary: LatencySummary;
  /** Non-2xx answers (the direct run: the primary's own 503s). */
  failures: LatencySummary;
}

export async function failoverLoad(
  req: RequestSpec,
  o: { concurrency: number; seconds: number; maxRequests: number; warmupSeconds?: number } & Hooks,
): Promise<FailoverResult> {
  const { pool, path } = poolFor(req.url, o.concurrency);
  const all = new Samples();
  const prim = new Samples();
  const sec = new Samples();
  const bad = new Samples();
  const statuses: Record<string, number> = {};
  let ok = 0;
  let failed = 0;
  let measuring = false;
  const one = async (): Promise<void> => {
    const measured = measuring;
    const t0 = performance.now();
    try {
      const res = await pool.request({ path, method: 'POST', headers: req.headers, body: req.body });
      const text = await res.body.text();
      const ms = performance.now() - t0;
      if (!measured) return;
      bump(statuses, res.statusCode);
      if (res.statusCode < 200 || res.statusCode >= 300) {
        failed++;
        bad.push(ms);
        return;
      }
      ok++;
      all.push(ms);
      if (text.includes('from secondary')) sec.push(ms);
      else prim.push(ms);
    } catch {
      if (measured) {
        bump(statuses, 'transport');
        failed++;
      }
    }
  };
  if (o.warmupSeconds && o.warmupSeconds > 0) await closedWorkers(o.concurrency, o.warmupSeconds, Math.ceil(o.maxRequests / 4), one);
  measuring = true;
  o.onMeasureStart?.();
  const t0 = performance.now();
  await closedWorkers(o.concurrency, o.seconds, o.maxRequests, one);
  const seconds = (performance.now() - t0) / 1000;
  o.onMeasureEnd?.();
  await pool.destroy();
  return { ok, errors: failed, statuses, seconds, rps: ok / seconds, latency: all.summary(), byPrimary: prim.summary(), bySecondary: sec.summary(), failures: bad.summary() };
}
