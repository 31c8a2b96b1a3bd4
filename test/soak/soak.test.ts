/**
 * Load and soak: the real sidecar process at RATE req/s (1,000 by default),
 * half streaming, for LLMROUTE_SOAK_SECONDS (30 in CI; `npm run test:soak`
 * runs 600), with 5 % of upstream tries failing on purpose, and the config
 * rewritten every second (valid and invalid in turn). Then SIGTERM under
 * the same load.
 *
 * Every request is counted and every answer checked: zero lost, zero
 * answered twice, zero errors that an injected fault does not explain,
 * zero failures caused by a reload, no retry storm; the circuit state
 * survives the reloads. SIGTERM: every request in flight completes or gets
 * a clean error, and the process exits 0 within the drain time.
 *
 * What depends on the machine's speed is measured and reported, not
 * asserted: that the rate was kept up, that p99 stays stable, that RSS and
 * the live heap stay flat after warm-up, the event-loop delay. The figures
 * and those bounds, as PASS/FAIL lines, are printed and written to
 * test/soak/results/latest.json and latest.txt (test/support/report.ts).
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { fileURLToPath } from 'node:url';
import { startFakeProvider, type Behaviour, type FakeProvider, type RecordedRequest } from '../fakes/fake-provider.ts';
import { startSidecarProcess, type SidecarProcess } from '../support/sidecar-process.ts';
import { Report } from '../support/report.ts';
import { metricSum, percentile, round, rssBytes, scrape, send, sleep, until, type Sample } from '../chaos/harness.ts';
import { requestIdOf, runLoad, tally, type Outcome } from '../chaos/load.ts';

const SECONDS = Number(process.env.LLMROUTE_SOAK_SECONDS ?? 30);
const RATE = Number(process.env.LLMROUTE_SOAK_RATE ?? 1000);
const FAIL_RATE = 0.05;
/** Warm-up: the heap grows to its working size (V8's young generation grows under load) before RSS is baselined. */
const WARMUP_S = Math.round(Math.min(60, Math.max(10, SECONDS * 0.3)));
const WINDOW_S = 5;
/**
 * The reported bound on RSS growth after warm-up. The heap takes about a
 * minute at this load to reach its working size, so the 10 MiB bounds are
 * the long form's (60 s warm-up; see the end of the first test); CI's 30 s
 * run, still settling, is held to 24 MiB over its 20 measured seconds, which
 * a leak of 1.3 KB per request would break.
 */
const RSS_LIMIT = (SECONDS >= 300 ? 10 : 24) * 2 ** 20;
const RESULTS = fileURLToPath(new URL('./results/', import.meta.url));
/** Prints the live heap and RSS after every major GC of the sidecar (loaded with --import). */
const GC_PROBE = fileURLToPath(new URL('./gc-probe.mjs', import.meta.url));

jest.setTimeout(SECONDS * 1000 + 180_000);

let a: FakeProvider;
let b: FakeProvider;
let x: FakeProvider;
let y: FakeProvider;
let sidecar: SidecarProcess;

// ------------------------------------------------------------ what the fakes did, per request id

const MAX_IDS = Math.ceil(RATE * (SECONDS + 30) * 1.2);
/** Upstream successes begun per request id: more than one is a request answered twice. */
const served = new Uint8Array(MAX_IDS);
let servedTwice = 0;
/** The faults injected into each request's tries. */
const injected = new Map<number, string[]>();
let injectedTotal = 0;
let injecting = true;
let slow: Behaviour | undefined;

const FAULTS_STREAM: Array<[string, Behaviour]> = [
  ['500', { kind: 'status', status: 500 }],
  ['503', { kind: 'status', status: 503 }],
  ['529', { kind: 'status', status: 529 }],
  ['429', { kind: 'rate-limit', retryAfterMs: 10 }],
  ['reset', { kind: 'reset' }],
  ['garbage', { kind: 'garbage' }],
  ['cut-before-content', { kind: 'cut', afterChunks: 0 }],
  ['cut-after-content', { kind: 'cut', afterChunks: 2, chunkDelayMs: 5 }],
];
const FAULTS_JSON: Array<[string, Behaviour]> = [
  ...FAULTS_STREAM.filter(([k]) => !k.startsWith('cut')),
  ['truncated-json', { kind: 'truncated-json' }],
  ['error-body', { kind: 'error-body' }],
];

function behaviour(rec: RecordedRequest): Behaviour | undefined {
  const id = requestIdOf(rec);
  if (id === undefined || id >= MAX_IDS) return slow;
  if (injecting && Math.random() < FAIL_RATE) {
    const list = rec.stream ? FAULTS_STREAM : FAULTS_JSON;
    const [kind, b] = list[Math.floor(Math.random() * list.length)]!;
    const seen = injected.get(id);
    if (seen) seen.push(kind);
    else injected.set(id, [kind]);
    injectedTotal++;
    return b;
  }
  if (++served[id]! > 1) servedTwice++;
  return slow;
}

// ------------------------------------------------------------ config variants

function config(variant: number): string {
  const key = (n: string) => `{value: sk-${n}-soak-0123456789abcdef}`;
  return `# variant ${variant}
routes:
- name: soak
  aliases: [soak-${variant}]
  targets:
  - {name: a, provider: openai, baseURL: "${a.url}", model: gpt-4o-mini, apiKey: ${key('a')}}
  - {name: b, provider: anthropic, baseURL: "${b.url}", model: claude-sonnet-4-5, priority: 1, apiKey: ${key('b')}}
  retry: {attempts: 1, backoff: {initial: 5ms, max: 20ms}, retryAfterCap: 1s}
  timeouts: {connect: 1s, firstByte: 5s, idle: 5s, total: 15s}
  circuitBreaker: {consecutiveFailures: 5, openFor: 2s}
- name: tripped
  targets:
  - {name: x, provider: openai, baseURL: "${x.url}", model: gpt-4o-mini, apiKey: ${key('x')}}
  - {name: y, provider: openai, baseURL: "${y.url}", model: gpt-4o-mini, priority: 1, apiKey: ${key('y')}}
  retry: {attempts: 0}
  circuitBreaker: {consecutiveFailures: 2, openFor: 10m}
`;
}

const INVALID = [
  (v: number) => config(v).replace('provider: anthropic', 'provider: nope'),
  (v: number) => config(v).replace('routes:', 'routes: [oops'),
  (v: number) => config(v).replace('retry: {attempts: 0}', 'retry: {attempts: -3}'),
  (v: number) => config(v).replace(/targets:\n {2}- \{name: x[^\n]*\n {2}- \{name: y[^\n]*\n/, 'targets: []\n'),
];

beforeAll(async () => {
  a = await startFakeProvider({ flavor: 'openai', name: 'a', text: 'from a, one two three', chunks: 4, maxRecords: 0, behaviour });
  b = await startFakeProvider({ flavor: 'anthropic', name: 'b', text: 'from b, one two three', chunks: 4, maxRecords: 0, behaviour });
  x = await startFakeProvider({ flavor: 'openai', name: 'x', maxRecords: 0, behaviour: { kind: 'status', status: 500 } });
  y = await startFakeProvider({ flavor: 'openai', name: 'y', maxRecords: 0 });
  sidecar = await startSidecarProcess(config(0), { env: { NODE_OPTIONS: `--import=${GC_PROBE}` } });
});

afterAll(async () => {
  if (sidecar && sidecar.child.exitCode === null) await sidecar.stop();
  await Promise.all([a?.close(), b?.close(), x?.close(), y?.close()]);
});

const expectedText = (t: string | undefined): string | undefined => (t === 'a' ? 'from a, one two three' : t === 'b' ? 'from b, one two three' : undefined);
const chat = (model: string) => send(`${sidecar.baseURL}/chat/completions`, JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }));

const report = new Report();
const results = report.figures;
/** The first id the SIGTERM phase may use. */
let nextId = 0;

function maxOf(values: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < values.length; i++) if (values[i]! > m) m = values[i]!;
  return m;
}

describe(`soak: ${SECONDS} s at ${RATE} req/s, ${FAIL_RATE * 100} % injected failures, a config reload every second`, () => {
  it('loses nothing, answers nothing twice, explains every error, and keeps the circuit through every reload', async () => {
    // a route whose circuit is open for 10 minutes: the reloads must not close it
    await chat('tripped');
    await chat('tripped');
    expect(await sidecar.metric('llmroute_circuit_state', { route: 'tripped', target: 'x' })).toBe(2);
    const xTries = x.counts.requests;

    const pid = sidecar.child.pid!;
    const t0 = performance.now();
    const windows: number[][] = [];
    const latencies = new Float64Array(MAX_IDS);
    let nLat = 0;
    const rss: Array<{ at: number; bytes: number; young: number; old: number; heapTotal: number; external: number }> = [];
    const lag: number[] = [];
    let reloadsValid = 0;
    let reloadsInvalid = 0;
    let trippedOk = 0;
    let logsAtWarmup = 0;
    let trippedBad = 0;
    const stop = new AbortController();
    const before: Sample[] = await scrape(sidecar.adminURL);

    const background = (async () => {
      let tick = 0;
      while (!stop.signal.aborted) {
        await sleep(1000);
        if (stop.signal.aborted) break;
        tick++;
        if (tick === WARMUP_S) logsAtWarmup = sidecar.logs.length;
        const mem = await scrape(sidecar.adminURL);
        rss.push({
          at: (performance.now() - t0) / 1000,
          bytes: rssBytes(pid),
          young: metricSum(mem, 'llmroute_process_nodejs_heap_space_size_total_bytes', { space: 'new' }),
          old: metricSum(mem, 'llmroute_process_nodejs_heap_space_size_used_bytes', { space: 'old' }),
          heapTotal: metricSum(mem, 'llmroute_process_nodejs_heap_size_total_bytes'),
          external: metricSum(mem, 'llmroute_process_nodejs_external_memory_bytes'),
        });
        // prom-client resets its event-loop histogram at each scrape: this is the last second's p99
        lag.push(metricSum(mem, 'llmroute_process_nodejs_eventloop_lag_p99_seconds') * 1000);
        // reload: valid and invalid in turn
        if (tick % 2 === 1) {
          sidecar.writeConfig(config(tick));
          reloadsValid++;
        } else {
          sidecar.writeConfig(INVALID[(tick / 2) % INVALID.length]!(tick));
          reloadsInvalid++;
        }
        if (tick % WINDOW_S === 0) {
          const r = await chat('tripped'); // served by y, never by x
          if (r.status === 200 && r.headers['x-llmroute-target'] === 'y') trippedOk++;
          else trippedBad++;
        }
      }
    })();

    const load = await runLoad({
      origin: `http://127.0.0.1:${sidecar.apiPort}`,
      rate: RATE,
      durationMs: SECONDS * 1000,
      maxInFlight: 5_000,
      connections: 256,
      streamShare: 0.5,
      model: 'soak',
      timeoutMs: 30_000,
      expectedText,
      keepOk: false,
      onOutcome: (o: Outcome) => {
        if (nLat < latencies.length) latencies[nLat++] = o.ms;
        const w = Math.floor(o.at / 1000 / WINDOW_S);
        (windows[w] ??= []).push(o.ms);
      },
    });
    stop.abort();
    await background;
    nextId = load.nextId;
    const logsAtEnd = sidecar.logs.length;
    // the last write: a valid one, so the circuit check below reads the config in force
    sidecar.writeConfig(config(10_000));
    reloadsValid++;
    // until every write is counted (an uncounted one fails below)
    const reloadsCounted = async (): Promise<boolean> => {
      const m = await scrape(sidecar.adminURL);
      const counted = (result: string) => metricSum(m, 'llmroute_config_reloads_total', { result }) - metricSum(before, 'llmroute_config_reloads_total', { result });
      return counted('ok') >= reloadsValid && counted('error') >= reloadsInvalid;
    };
    await until(reloadsCounted, 5_000);
    const after: Sample[] = await scrape(sidecar.adminURL);

    // ---------------------------------------------------------- figures
    const t = tally(load.outcomes);
    const errors = load.outcomes.filter((o) => o.kind !== 'ok');
    const unexplained = errors.filter((o) => !injected.has(o.id) || o.kind === 'lost' || o.kind === 'duplicated' || o.kind === 'corrupt' || o.kind === 'network-error');
    const attempts = metricSum(after, 'llmroute_upstream_attempts_total', { route: 'soak' }) - metricSum(before, 'llmroute_upstream_attempts_total', { route: 'soak' });
    const probes = sidecar.logs.filter((l) => l.msg === 'circuit state changed' && l.route === 'soak' && l.state === 'half-open').length;
    const lat = Array.from(latencies.subarray(0, nLat));
    const warmWindows = Math.ceil(WARMUP_S / WINDOW_S);
    const p99s = windows.map((w) => round(percentile(w, 99)));
    // after warm-up, and without the last window (the run's end: the client's own teardown shows there)
    const steady = p99s.slice(warmWindows, Math.floor(SECONDS / WINDOW_S) - 1);
    const median = (v: number[]) => percentile(v, 50);
    // p99 of the first and the second half of the run after warm-up: a sidecar that degrades shows here
    const half = (from: number, to: number) => percentile(lat.filter((_, i) => i >= from && i < to), 99);
    const warmIndex = Math.floor(nLat * (WARMUP_S / SECONDS));
    const p99First = round(half(warmIndex, warmIndex + (nLat - warmIndex) / 2));
    const p99Second = round(half(warmIndex + (nLat - warmIndex) / 2, nLat));
    const memAt = (from: number, to: number, k: 'bytes' | 'young' | 'old') => median(rss.filter((r) => r.at >= from && r.at < to).map((r) => r[k]));
    const rssWarm = memAt(WARMUP_S - 2, WARMUP_S + 1, 'bytes');
    const rssEnd = memAt(SECONDS - 3, SECONDS + 1, 'bytes');
    // V8 grows its young generation under load (up to a fixed cap), and the space it takes shows in RSS;
    // that growth is bounded and returned on idle: what is left is what a leak would look like.
    const youngGrowth = memAt(SECONDS - 3, SECONDS + 1, 'young') - memAt(WARMUP_S - 2, WARMUP_S + 1, 'young');
    const rssGrowth = rssEnd - rssWarm;
    const rssGrowthBesidesYoung = rssGrowth - Math.max(0, youngGrowth);
    // The same, floor to floor: the lowest RSS (less the young generation) of the last third after warm-up
    // against that of the first third. The old generation saw-tooths by tens of MiB between major GCs; a
    // leak lifts the floor, garbage does not.
    const third = (SECONDS - WARMUP_S) / 3;
    const floor = (from: number, to: number) => Math.min(...rss.filter((r) => r.at >= from && r.at <= to).map((r) => r.bytes - r.young));
    const rssFloorGrowth = floor(SECONDS - third, SECONDS + 1) - floor(WARMUP_S, WARMUP_S + third);
    // After warm-up, what each major GC left: the live heap (what a leak grows) and the RSS at that moment.
    // Floors of the first and the second half: the garbage between GCs is the saw-tooth, not a trend.
    const gcs = sidecar.logs.slice(logsAtWarmup, logsAtEnd).filter((l) => l.component === 'gc-probe') as Array<{ heapUsed: number; rss: number }>;
    const floorGrowth = (k: 'heapUsed' | 'rss'): number | null => {
      const h = Math.floor(gcs.length / 2);
      if (h < 2) return null;
      const min = (xs: typeof gcs) => Math.min(...xs.map((g) => g[k]));
      return min(gcs.slice(h)) - min(gcs.slice(0, h));
    };
    const liveHeapGrowth = floorGrowth('heapUsed');
    const rssAfterGcGrowth = floorGrowth('rss');
    const byKind: Record<string, number> = {};
    for (const o of errors) byKind[`${o.kind}:${o.detail}`] = (byKind[`${o.kind}:${o.detail}`] ?? 0) + 1;
    const figures = {
      seconds: SECONDS,
      rateTarget: RATE,
      rateAchieved: round(load.issued / (load.elapsedMs / 1000)),
      requestsSent: load.issued,
      answered: load.answered,
      skippedByBackpressure: load.skipped,
      lost: t.lost,
      duplicated: t.duplicated + servedTwice,
      corrupt: t.corrupt,
      networkErrors: t['network-error'],
      clientVisibleErrors: errors.length,
      unexplainedErrors: unexplained.length,
      errorsByKind: byKind,
      injectedFaults: injectedTotal,
      upstreamAttempts: attempts,
      breakerProbes: probes,
      retryAmplification: round(attempts / load.issued, 4),
      latencyMs: { p50: round(percentile(lat, 50)), p90: round(percentile(lat, 90)), p99: round(percentile(lat, 99)), max: round(maxOf(lat)) },
      p99PerWindowMs: p99s,
      p99AfterWarmupMs: { firstHalf: p99First, secondHalf: p99Second, medianWindowFirstHalf: median(steady.slice(0, Math.ceil(steady.length / 2))), medianWindowSecondHalf: median(steady.slice(Math.ceil(steady.length / 2))) },
      // one reading a second (each the p99 of the second before): their median, p99 and max
      eventLoopDelayP99Ms: { median: round(percentile(lag, 50), 2), p99: round(percentile(lag, 99), 2), max: round(maxOf(lag), 2), readings: lag.length },
      rssMiB: {
        warmupSeconds: WARMUP_S,
        atWarmup: round(rssWarm / 2 ** 20),
        atEnd: round(rssEnd / 2 ** 20),
        growth: round(rssGrowth / 2 ** 20),
        youngGenerationGrowth: round(youngGrowth / 2 ** 20),
        growthBesidesYoungGeneration: round(rssGrowthBesidesYoung / 2 ** 20),
        floorGrowthBesidesYoungGeneration: round(rssFloorGrowth / 2 ** 20),
        limit: RSS_LIMIT / 2 ** 20,
        majorGCsAfterWarmup: gcs.length,
        liveHeapAfterMajorGC: gcs.length ? { first: round(gcs[0]!.heapUsed / 2 ** 20), last: round(gcs[gcs.length - 1]!.heapUsed / 2 ** 20), floorGrowth: liveHeapGrowth === null ? null : round(liveHeapGrowth / 2 ** 20) } : null,
        rssAfterMajorGC: gcs.length ? { first: round(gcs[0]!.rss / 2 ** 20), last: round(gcs[gcs.length - 1]!.rss / 2 ** 20), floorGrowth: rssAfterGcGrowth === null ? null : round(rssAfterGcGrowth / 2 ** 20) } : null,
        series: rss.filter((_, i) => i % Math.max(1, Math.round(SECONDS / 20)) === 0).map((r) => ({
          at: Math.round(r.at),
          rss: round(r.bytes / 2 ** 20),
          heapTotal: round(r.heapTotal / 2 ** 20),
          young: round(r.young / 2 ** 20),
          oldUsed: round(r.old / 2 ** 20),
          external: round(r.external / 2 ** 20),
        })),
        oldSpaceUsed: { atWarmup: round(memAt(WARMUP_S - 2, WARMUP_S + 1, 'old') / 2 ** 20), atEnd: round(memAt(SECONDS - 3, SECONDS + 1, 'old') / 2 ** 20) },
      },
      reloads: {
        validWritten: reloadsValid,
        invalidWritten: reloadsInvalid,
        ok: metricSum(after, 'llmroute_config_reloads_total', { result: 'ok' }) - metricSum(before, 'llmroute_config_reloads_total', { result: 'ok' }),
        error: metricSum(after, 'llmroute_config_reloads_total', { result: 'error' }) - metricSum(before, 'llmroute_config_reloads_total', { result: 'error' }),
      },
      trippedCircuit: { stateAfter: metricSum(after, 'llmroute_circuit_state', { route: 'tripped', target: 'x' }), probesOfX: x.counts.requests - xTries, servedByBackup: trippedOk, otherwise: trippedBad },
    };
    results.soak = figures;
    console.log(`soak figures: ${JSON.stringify(figures, null, 1)}`);

    expect(load.answered).toBe(load.issued); // every request answered
    expect(t.lost).toBe(0);
    expect(t.duplicated + servedTwice).toBe(0);
    expect(t.corrupt).toBe(0);
    expect(unexplained.slice(0, 5)).toEqual([]); // every client-visible error is an injected fault's
    expect(attempts).toBeLessThanOrEqual(1.2 * load.issued + probes);
    // reloads: each valid one applied, each invalid one refused and counted; none failed a request
    expect(figures.reloads.ok).toBe(reloadsValid);
    expect(figures.reloads.error).toBe(reloadsInvalid);
    // the open circuit survived every reload: x never tried again, y served
    expect(figures.trippedCircuit).toMatchObject({ stateAfter: 2, probesOfX: 0, otherwise: 0 });

    // ---------------------------------------------------------- reported, not asserted (see the top)
    report.atMost('soak: requests skipped by backpressure (the sidecar kept up: the rate was really offered)', load.skipped, 0);
    // p99 stable: the typical 5 s window of the second half after warm-up is no worse than that of the
    // first (the median window, so one hiccup of a noisy neighbour does not decide; a sidecar that degrades
    // moves every window)
    const h = Math.ceil(steady.length / 2);
    const typicalFirst = median(steady.slice(0, h));
    const typicalSecond = steady.length > 1 ? median(steady.slice(h)) : null;
    report.atMost(`soak: p99 of the median 5 s window, second half after warm-up, against the first half's ${typicalFirst} ms`, typicalSecond, round(Math.max(2 * typicalFirst, typicalFirst + 25)), ' ms');
    // memory flat after warm-up. Between two major GCs (about a minute apart at this load) RSS saw-tooths
    // by tens of MiB of garbage, and V8 may double its young generation once (64 → 128 MiB): the long form
    // bounds the RSS floor less the young generation, and the live heap after major GCs (what a leak grows).
    // CI's 30 s run has no GC cycle to speak of: it bounds the plain growth, more loosely.
    const mib = (bytes: number | null) => (bytes === null ? null : round(bytes / 2 ** 20));
    if (SECONDS >= 300) {
      report.atMost('soak: live heap growth after major GCs, after warm-up', mib(liveHeapGrowth), 10, ' MiB');
      report.atMost('soak: RSS floor growth besides the young generation, after warm-up', mib(rssFloorGrowth), 10, ' MiB');
    } else {
      report.atMost('soak: RSS growth besides the young generation, after warm-up', mib(rssGrowthBesidesYoung), RSS_LIMIT / 2 ** 20, ' MiB');
      if (liveHeapGrowth !== null) report.atMost('soak: live heap growth after major GCs, after warm-up', mib(liveHeapGrowth), 10, ' MiB');
    }
  });

  it('SIGTERM under load: every request in flight completes or gets a clean error, and the process exits 0 within the drain time', async () => {
    injecting = false;
    slow = { kind: 'ok', chunks: 4, chunkDelayMs: 60 }; // ~180 ms per answer: plenty in flight at the signal
    const base = nextId;
    const sigtermAfterMs = 1_500;
    const t0 = performance.now();
    let sentAt = 0;
    let exitedAt = 0;
    const exit = (async () => {
      await sleep(sigtermAfterMs);
      sentAt = performance.now() - t0;
      sidecar.child.kill('SIGTERM');
      const code = await sidecar.exited;
      exitedAt = performance.now() - t0;
      return code;
    })();
    const load = await runLoad({
      origin: `http://127.0.0.1:${sidecar.apiPort}`,
      rate: RATE,
      durationMs: sigtermAfterMs + 1_500,
      maxInFlight: 5_000,
      connections: 1_024,
      streamShare: 0.5,
      model: 'soak',
      timeoutMs: 40_000,
      expectedText,
      firstId: base,
    });
    const code = await exit;
    const beforeSignal = load.outcomes.filter((o) => o.at < sentAt - 20);
    const afterSignal = load.outcomes.filter((o) => o.at > sentAt + 20);
    const bucket = (os: Outcome[]) => {
      const r: Record<string, number> = {};
      for (const o of os) r[o.kind === 'ok' ? 'ok' : `${o.kind}:${o.detail}`] = (r[o.kind === 'ok' ? 'ok' : `${o.kind}:${o.detail}`] ?? 0) + 1;
      return r;
    };
    // a broken connection is clean only when its request never reached a provider (the client may retry it)
    const ghosts = load.outcomes.filter((o) => o.kind === 'network-error' && o.id < MAX_IDS && served[o.id]! > 0);
    const inFlightAtSignal = load.outcomes.filter((o) => o.at < sentAt && o.at + o.ms > sentAt);
    const figures = {
      requestsSent: load.issued,
      inFlightAtSignal: inFlightAtSignal.length,
      inFlightAtSignalCompleted: inFlightAtSignal.filter((o) => o.kind === 'ok').length,
      startedBeforeSignal: bucket(beforeSignal),
      startedAfterSignal: bucket(afterSignal),
      brokenConnectionsThatReachedAProvider: ghosts.length,
      exitCode: code,
      exitAfterSignalMs: Math.round(exitedAt - sentAt),
    };
    results.sigterm = figures;
    console.log(`SIGTERM under load: ${JSON.stringify(figures, null, 1)}`);

    expect(code).toBe(0);
    expect(exitedAt - sentAt).toBeLessThan(30_000 + 2_000);
    expect(load.answered).toBe(load.issued); // every request has an outcome: none lost
    expect(tally(load.outcomes)).toMatchObject({ lost: 0, duplicated: 0, corrupt: 0, 'stream-error': 0 });
    expect(inFlightAtSignal.length).toBeGreaterThan(0);
    for (const o of load.outcomes) {
      // every answer the sidecar sent is whole (200 with its [DONE]) or a clean 503 draining ...
      if (o.kind === 'http-error') expect(`${o.status} ${o.detail}`).toBe('503 llmroute_unavailable/draining');
      // ... and a broken connection is one the sidecar never took in: refused at the door, reset in the
      // accept backlog when the listener closed, or a keep-alive socket closed as the client reused it
      else if (o.kind === 'network-error') expect(['ECONNREFUSED', 'ECONNRESET', 'UND_ERR_SOCKET']).toContain(o.detail);
      else expect(o.kind).toBe('ok');
    }
    // none of those ever reached a provider: the client can retry them safely
    expect(ghosts).toEqual([]);
  });
});

afterAll(() => {
  if (Object.keys(results).length > 0) report.write(RESULTS, 'latest');
});

