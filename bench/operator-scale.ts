/**
 * npm run bench:operator: the operator at cluster scale, on a real etcd +
 * kube-apiserver (the e2e harness's, test/e2e/harness/control-plane.ts).
 *
 *   node bench/operator-scale.ts [--scale 1] [--concurrency 32] [--churn 200] [--in-flight 4]
 *                                [--ts] [--write-qps N] [--write-burst N]
 *                                [--no-handover] [--rest-seconds 30] [--out FILE] [--setup-only]
 *
 * At --scale 1 it creates 1,000 namespaces, 5,000 LLMRoutes (5 a namespace,
 * 2 targets each), the 2,000 Secrets they name (labelled
 * llmroute.dev/credentials=true) and 20,000 unrelated Secrets of 4 KiB
 * (4,096 bytes of data, unlabelled), with bounded concurrency; --scale 0.1
 * makes a tenth of each. Then it starts the operator compiled by
 * tsconfig.build.json into a temp folder (what the image ships; --ts runs
 * operator/src/cli.ts instead) with leader election on, and measures:
 *   - replica A from start to every route Ready (observedGeneration ==
 *     generation): its RSS (peak, settled), its CPU during that sync and
 *     at rest, and the LIST calls it made (its own
 *     llmroute_operator_kube_requests_total, and the API server's
 *     apiserver_request_total);
 *   - replica B (a standby) once synced;
 *   - a churn of --churn spec updates, --in-flight at a time, each timed
 *     from the PATCH sent to the namespace's rendered ConfigMap carrying it
 *     (a watch), with one leader handover halfway (SIGTERM to A: it
 *     releases the Lease, B takes over);
 *   - at the end, on a fresh LIST: every route's status.observedGeneration
 *     == metadata.generation and Ready, and every ConfigMap holding exactly
 *     the namespace's routes with their current models.
 * The operator watches only the Secrets labelled llmroute.dev/credentials=true
 * (the 2,000 the routes name), so the 20,000 unrelated ones never reach its
 * cache. --write-qps / --write-burst set the operator's write rate limit
 * (0: none).
 *
 * --setup-only creates the cluster, prints its kubeconfig and waits for
 * SIGINT: for trying an operator by hand against it.
 *
 * Writes a Markdown summary to stdout and the numbers to
 * bench/results/operator-scale.json (or --out). Goals are reported, never
 * enforced: exit 0 unless the benchmark could not run (or a check at the end
 * failed: exit 3).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import yaml from 'js-yaml';
import { KubeConfig } from '@kubernetes/client-node';
import { startControlPlane } from '../test/e2e/harness/control-plane.ts';
import { installCrds } from '../test/e2e/harness/kube.ts';
import { KubeClient } from '../operator/src/kube/kube-client.ts';
import { spawnNodeScript, type Child } from '../operator/src/testing/processes.ts';
import { nodeEntrypoint } from '../hack/dockerfile.ts';
import { RssSampler, hwmMb, treeCpuSeconds, treeRssMb } from './lib/proc.ts';

const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url));
const REPO = resolve(BENCH_DIR, '..');

const { values: flags } = parseArgs({
  options: {
    scale: { type: 'string', default: '1' },
    concurrency: { type: 'string', default: '32' },
    churn: { type: 'string', default: '200' },
    'in-flight': { type: 'string', default: '4' },
    ts: { type: 'boolean', default: false },
    'write-qps': { type: 'string' },
    'write-burst': { type: 'string' },
    'no-handover': { type: 'boolean', default: false },
    'rest-seconds': { type: 'string', default: '30' },
    'setup-only': { type: 'boolean', default: false },
    out: { type: 'string', default: join(BENCH_DIR, 'results', 'operator-scale.json') },
    help: { type: 'boolean', default: false },
  },
  strict: true,
});

if (flags.help) {
  process.stdout.write(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('*/')[0]!.replace(/^\/\*\*?\n?/, '').replace(/^ \* ?/gm, '') + '\n');
  process.exit(0);
}

const say = (m: string): void => void process.stderr.write(`bench:operator: ${m}\n`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const secs = (ms: number): number => Math.round(ms / 100) / 10;
const mb = (v: number | null | undefined): number | null => (v == null ? null : Math.round(v));

const scale = Number(flags.scale);
const N_NS = Math.max(1, Math.round(1000 * scale));
const ROUTES_PER_NS = 5;
const LABELLED_PER_NS = 2;
const UNRELATED_PER_NS = 20;
const CONCURRENCY = Math.max(1, Number(flags.concurrency));
const CHURN = Math.max(0, Number(flags.churn));
const IN_FLIGHT = Math.max(1, Number(flags['in-flight']));
const REST_S = Math.max(1, Number(flags['rest-seconds']));
const CRED_LABEL = 'llmroute.dev/credentials';
const nsName = (i: number): string => `scale-${String(i).padStart(4, '0')}`;
const LEASE_NS = 'llmroute-system';

/** Runs fn over items with at most n at once. */
async function pool<T>(items: readonly T[], n: number, fn: (x: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i]!, i);
      }
    }),
  );
}

function pct(xs: number[], p: number): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

async function metricsText(port: number): Promise<string> {
  return (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
}

/** Sum of a metric's series whose labels include all of `match` (e.g. verb="list"). */
function metricSum(text: string, name: string, match: Record<string, string> = {}): number {
  let sum = 0;
  for (const m of text.matchAll(new RegExp(`^${name}(?:\\{([^}]*)\\})? (\\S+)$`, 'gm'))) {
    const labels = m[1] ?? '';
    if (Object.entries(match).every(([k, v]) => labels.includes(`${k}="${v}"`))) sum += Number(m[2]);
  }
  return sum;
}

function compileOperator(): string {
  const out = mkdtempSync(join(tmpdir(), 'llmroute-bench-operator-'));
  say(`compiling the operator (tsconfig.build.json) into ${out}`);
  execFileSync(process.execPath, [join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(REPO, 'tsconfig.build.json'), '--outDir', out], { stdio: 'inherit' });
  symlinkSync(join(REPO, 'node_modules'), join(out, 'node_modules'));
  return out;
}

// --------------------------------------------------------------------------

const results: Record<string, unknown> = { scale, namespaces: N_NS, routes: N_NS * ROUTES_PER_NS, labelledSecrets: N_NS * LABELLED_PER_NS, unrelatedSecrets: N_NS * UNRELATED_PER_NS };
const children: Child[] = [];
let cp: Awaited<ReturnType<typeof startControlPlane>> | undefined;
let dist: string | undefined;
let failed = false;

async function main(): Promise<void> {
  const tStart = performance.now();
  cp = await startControlPlane({
    repoRoot: REPO,
    log: (l) => say(l),
    // The apiserver's defaults (400 / 200 in flight) would do; the bench's own bursts should not be what is measured.
    apiserverArgs: ['--max-requests-inflight=800', '--max-mutating-requests-inflight=400'],
  });
  const kc = new KubeConfig();
  kc.loadFromFile(cp.kubeconfigPath);
  await installCrds(kc, join(REPO, 'crds'));
  const api = new KubeClient(kc, { requestTimeoutMs: 120_000, userAgent: 'llmroute-bench' });

  // --- the cluster ----------------------------------------------------------
  const nss = Array.from({ length: N_NS }, (_, i) => nsName(i));
  const created: Record<string, number> = {};
  const timed = async (what: string, fn: () => Promise<void>) => {
    const t = performance.now();
    await fn();
    created[what] = secs(performance.now() - t);
    say(`created ${what} in ${created[what]} s`);
  };
  await timed(`${N_NS + 1} namespaces`, () =>
    pool([LEASE_NS, ...nss], CONCURRENCY, async (name) => {
      await api.request('POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name } } });
    }),
  );
  const labelled = nss.flatMap((ns) => Array.from({ length: LABELLED_PER_NS }, (_, j) => ({ ns, name: `provider-${j}` })));
  await timed(`${labelled.length} labelled Secrets`, () =>
    pool(labelled, CONCURRENCY, async ({ ns, name }) => {
      await api.request('POST', `/api/v1/namespaces/${ns}/secrets`, {
        body: { apiVersion: 'v1', kind: 'Secret', metadata: { name, labels: { [CRED_LABEL]: 'true' } }, stringData: { apiKey: `sk-${ns}-${name}-${randomBytes(8).toString('hex')}` } },
      });
    }),
  );
  const routes = nss.flatMap((ns) => Array.from({ length: ROUTES_PER_NS }, (_, j) => ({ ns, name: `route-${j}` })));
  const targets = (model: string) =>
    Array.from({ length: LABELLED_PER_NS }, (_, j) => ({ name: `t${j}`, provider: 'openai', model: j === 0 ? model : 'gpt-4o-mini', priority: j, apiKeySecretRef: { name: `provider-${j}`, key: 'apiKey' } }));
  await timed(`${routes.length} LLMRoutes`, () =>
    pool(routes, CONCURRENCY, async ({ ns, name }) => {
      await api.request('POST', `/apis/llmroute.dev/v1alpha1/namespaces/${ns}/llmroutes`, {
        body: { apiVersion: 'llmroute.dev/v1alpha1', kind: 'LLMRoute', metadata: { name }, spec: { targets: targets('gpt-4o') } },
      });
    }),
  );
  const unrelated = nss.flatMap((ns) => Array.from({ length: UNRELATED_PER_NS }, (_, j) => ({ ns, name: `unrelated-${j}` })));
  const blob = randomBytes(2048).toString('base64'); // 2 keys × 2,048 bytes = 4 KiB of data
  await timed(`${unrelated.length} unrelated 4 KiB Secrets`, () =>
    pool(unrelated, CONCURRENCY, async ({ ns, name }) => {
      await api.request('POST', `/api/v1/namespaces/${ns}/secrets`, {
        body: { apiVersion: 'v1', kind: 'Secret', metadata: { name, annotations: { 'bench/purpose': 'not a credential' } }, data: { 'tls.crt': blob, 'tls.key': blob } },
      });
    }),
  );
  results.creation = created;
  results.creationTotalS = secs(performance.now() - tStart);
  if (flags['setup-only']) {
    say(`cluster ready: KUBECONFIG=${cp.kubeconfigPath}; Ctrl-C (SIGINT/SIGTERM) stops it`);
    const keepAlive = setInterval(() => undefined, 60_000);
    await new Promise<void>((r) => {
      process.once('SIGINT', () => (clearInterval(keepAlive), r()));
      process.once('SIGTERM', r);
    });
    return;
  }

  // --- watches of the bench: routes' readiness, the rendered ConfigMaps -----
  const routeState = new Map<string, { generation: number; observed: number; ready: boolean }>();
  const configs = new Map<string, string>();
  const cmWaiters = new Set<{ ns: string; marker: string; resolve: () => void }>();
  const watchAbort = new AbortController();
  let readyCount = 0;
  let allReady: (() => void) | undefined;
  const isReady = (r: any) => {
    const st = r.status ?? {};
    return st.observedGeneration === r.metadata.generation && (st.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');
  };
  const onRoute = (type: string, r: any) => {
    const key = `${r.metadata.namespace}/${r.metadata.name}`;
    const was = routeState.get(key)?.ready ?? false;
    if (type === 'DELETED') routeState.delete(key);
    else routeState.set(key, { generation: r.metadata.generation, observed: r.status?.observedGeneration ?? 0, ready: isReady(r) });
    const now = routeState.get(key)?.ready ?? false;
    readyCount += (now ? 1 : 0) - (was ? 1 : 0);
    if (readyCount === routes.length) allReady?.();
  };
  const onConfigMap = (type: string, cm: any) => {
    const ns = cm.metadata.namespace;
    if (type === 'DELETED') configs.delete(ns);
    else configs.set(ns, cm.data?.['config.yaml'] ?? '');
    for (const w of cmWaiters) if (w.ns === ns && configs.get(ns)?.includes(w.marker)) w.resolve();
  };
  const keepWatching = (path: string, query: Record<string, string>, on: (type: string, o: any) => void) => {
    void (async () => {
      let rv = (await api.request<any>('GET', path, { query: { ...query, limit: 1 } })).metadata.resourceVersion as string;
      while (!watchAbort.signal.aborted) {
        try {
          await api.watch<any>(path, { ...query, resourceVersion: rv, allowWatchBookmarks: true, timeoutSeconds: 600 }, (e) => {
            if (e.object?.metadata?.resourceVersion) rv = e.object.metadata.resourceVersion;
            if (e.type !== 'BOOKMARK') on(e.type, e.object);
          }, watchAbort.signal);
        } catch (err) {
          if (!watchAbort.signal.aborted) say(`bench watch of ${path} failed (${(err as Error).message}); again`);
          await sleep(200);
        }
      }
    })();
  };
  keepWatching('/apis/llmroute.dev/v1alpha1/llmroutes', {}, onRoute);
  keepWatching('/api/v1/configmaps', { fieldSelector: 'metadata.name=llmroute-config' }, onConfigMap);
  await sleep(500);

  // --- the operator ------------------------------------------------------------
  dist = flags.ts ? undefined : compileOperator();
  const cli = dist ? join(dist, 'operator', 'src', 'cli.js') : join(REPO, 'operator', 'src', 'cli.ts');
  const extra: string[] = [];
  if (flags['write-qps'] !== undefined) extra.push('--kube-write-qps', flags['write-qps']);
  if (flags['write-burst'] !== undefined) extra.push('--kube-write-burst', flags['write-burst']);
  const env = {};
  // As the image runs it: node with its ENTRYPOINT's flags (the young generation's cap).
  const nodeFlags = nodeEntrypoint(readFileSync(join(REPO, 'operator', 'Dockerfile'), 'utf8')).flags;
  results.operator = { build: dist ? 'compiled (tsconfig.build.json)' : 'TypeScript sources', nodeFlags, secretsWatch: `labelSelector ${CRED_LABEL}=true`, extraFlags: extra };
  const start = (id: string): Child => {
    const c = spawnNodeScript(cli, ['--kubeconfig', cp!.kubeconfigPath, '--metrics-port', '0', '--metrics-host', '127.0.0.1', '--leader-election-namespace', LEASE_NS, '--id', id, ...extra], env, nodeFlags);
    children.push(c);
    return c;
  };
  const portOf = async (c: Child) => (await c.waitForLine((_l, j) => j?.msg === 'llmroute operator started', 60_000)).port as number;
  // The API server's own count of LISTs (KubeClient parses JSON; /metrics is text).
  const apiserverMetrics = async (): Promise<string> => {
    const https = await import('node:https');
    return new Promise((res, rej) => {
      https
        .get(`${cp!.url}/metrics`, { headers: { authorization: `Bearer ${cp!.adminToken}` }, rejectUnauthorized: false }, (r) => {
          let s = '';
          r.setEncoding('utf8').on('data', (d) => (s += d)).on('end', () => res(s));
        })
        .on('error', rej);
    });
  };
  const listsBefore = metricSum(await apiserverMetrics(), 'apiserver_request_total', { verb: 'LIST' });

  say(`starting replica A (${dist ? 'compiled' : '.ts'}, secrets watch: labelled only)`);
  const readyPromise = new Promise<void>((r) => (allReady = r));
  const t0 = performance.now();
  const a = start('replica-a');
  const rssA = new RssSampler(a.proc.pid!);
  rssA.start(200);
  const portA = await portOf(a);
  await Promise.race([readyPromise, sleep(20 * 60_000).then(() => Promise.reject(new Error(`not every route Ready after 20 min (${readyCount}/${routes.length})`)))]);
  const readyMs = performance.now() - t0;
  const cpuSync = treeCpuSeconds(a.proc.pid!);
  const mA = await metricsText(portA);
  const listsAtReady = metricSum(mA, 'llmroute_operator_kube_requests_total', { verb: 'list' });
  const writesAtReady = metricSum(mA, 'llmroute_operator_api_writes_total');
  say(`every route Ready ${secs(readyMs)} s after start; CPU ${cpuSync?.toFixed(1)} s; peak RSS ${Math.round(rssA.peakMb)} MB`);
  await sleep(5_000);
  const cpuRest0 = treeCpuSeconds(a.proc.pid!);
  await sleep(REST_S * 1000);
  const cpuRest1 = treeCpuSeconds(a.proc.pid!);
  const settledA = treeRssMb(a.proc.pid!);
  const listsApiserver = metricSum(await apiserverMetrics(), 'apiserver_request_total', { verb: 'LIST' }) - listsBefore;
  results.replicaA = {
    readyS: secs(readyMs),
    cpuSyncS: cpuSync === null ? null : Math.round(cpuSync * 10) / 10,
    cpuRestPercentOfACore: cpuRest0 === null || cpuRest1 === null ? null : Math.round(((cpuRest1 - cpuRest0) / REST_S) * 1000) / 10,
    peakRssMb: mb(Math.max(rssA.peakMb, hwmMb(a.proc.pid!) ?? 0)),
    settledRssMb: mb(settledA),
    listCalls: listsAtReady,
    listCallsByResource: Object.fromEntries(['llmroutes', 'secrets', 'configmaps', 'leases'].map((r) => [r, metricSum(mA, 'llmroute_operator_kube_requests_total', { verb: 'list', resource: r })])),
    listCallsSeenByApiserver: listsApiserver,
    writesToReady: writesAtReady,
  };
  say(`replica A: ${JSON.stringify(results.replicaA)}`);

  // --- the standby ----------------------------------------------------------------
  const b = start('replica-b');
  const rssB = new RssSampler(b.proc.pid!);
  rssB.start(200);
  const portB = await portOf(b);
  const tB = performance.now();
  for (;;) {
    if ((await fetch(`http://127.0.0.1:${portB}/readyz`).catch(() => undefined))?.status === 200) break;
    await sleep(200);
  }
  say(`replica B synced in ${secs(performance.now() - tB)} s (standby)`);
  await sleep(3_000);
  const standby = { syncedS: secs(performance.now() - tB), peakRssMb: mb(rssB.peakMb), settledRssMb: mb(treeRssMb(b.proc.pid!)) };

  // --- churn, with a handover halfway -----------------------------------------------
  const order = [...routes].sort(() => Math.random() - 0.5);
  const perNs = new Map<string, number>();
  const picks: Array<{ ns: string; name: string; model: string; i: number }> = [];
  for (let i = 0; i < CHURN; i++) {
    // One route per namespace at a time: consecutive picks in different namespaces.
    const r = order[i % order.length]!;
    perNs.set(r.ns, (perNs.get(r.ns) ?? 0) + 1);
    picks.push({ ...r, model: `churn-${i}-m`, i });
  }
  const latencies: number[] = [];
  const timeline: Array<{ i: number; atS: number; ms: number }> = [];
  const beforeHandover: number[] = [];
  const afterTakeover: number[] = [];
  const acrossHandover: number[] = [];
  let takeoverAt: number | undefined;
  let lost = 0;
  let handoverAt: number | undefined;
  let handoverMs: number | undefined;
  const inFlightNs = new Set<string>();
  const handoverIndex = flags['no-handover'] ? -1 : Math.floor(CHURN / 2);
  let handover: Promise<void> | undefined;
  const tChurn = performance.now();
  await pool(picks, IN_FLIGHT, async (p) => {
    while (inFlightNs.has(p.ns)) await sleep(10);
    inFlightNs.add(p.ns);
    if (p.i === handoverIndex) {
      handoverAt = performance.now();
      say(`update ${p.i}: SIGTERM to the leader (replica A)`);
      handover = (async () => {
        a.proc.kill('SIGTERM');
        await b.waitForLine((_l, j) => j?.msg === 'became the leader', 60_000);
        takeoverAt = performance.now();
        handoverMs = takeoverAt - handoverAt!;
        say(`replica B leads ${Math.round(handoverMs)} ms after the SIGTERM`);
      })();
    }
    const marker = `model: ${p.model}`;
    let resolveSeen!: () => void;
    const seen = new Promise<void>((r) => (resolveSeen = r));
    const w = { ns: p.ns, marker, resolve: resolveSeen };
    cmWaiters.add(w);
    const t = performance.now();
    await api.request('PATCH', `/apis/llmroute.dev/v1alpha1/namespaces/${p.ns}/llmroutes/${p.name}`, { contentType: 'application/merge-patch+json', body: { spec: { targets: targets(p.model) } } });
    if (configs.get(p.ns)?.includes(marker)) resolveSeen();
    const ok = await Promise.race([seen.then(() => true), sleep(120_000).then(() => false)]);
    cmWaiters.delete(w);
    inFlightNs.delete(p.ns);
    if (!ok) {
      lost++;
      say(`update ${p.i} (${p.ns}/${p.name}) never reached the ConfigMap`);
      return;
    }
    const ms = performance.now() - t;
    latencies.push(ms);
    timeline.push({ i: p.i, atS: secs(t - tChurn), ms: Math.round(ms) });
    // The updates in flight across the handover wait for it; the others are the steady state.
    if (handoverAt === undefined || t + ms < handoverAt) beforeHandover.push(ms);
    else if (takeoverAt !== undefined && t >= takeoverAt) afterTakeover.push(ms);
    else acrossHandover.push(ms);
  });
  const churnS = secs(performance.now() - tChurn);
  await handover;
  const r = (x: number | null) => (x === null ? null : Math.round(x));
  results.churn = {
    updates: CHURN,
    inFlight: IN_FLIGHT,
    seconds: churnS,
    p50Ms: r(pct(latencies, 50)),
    p99Ms: r(pct(latencies, 99)),
    maxMs: r(latencies.length ? Math.max(...latencies) : null),
    beforeHandover: { updates: beforeHandover.length, p50Ms: r(pct(beforeHandover, 50)), p99Ms: r(pct(beforeHandover, 99)) },
    afterTakeover: { updates: afterTakeover.length, p50Ms: r(pct(afterTakeover, 50)), p99Ms: r(pct(afterTakeover, 99)) },
    acrossHandover: acrossHandover.length,
    acrossHandoverMaxMs: r(acrossHandover.length ? Math.max(...acrossHandover) : null),
    handoverMs: handoverMs === undefined ? null : Math.round(handoverMs),
    handoverAtS: handoverAt === undefined ? null : secs(handoverAt - tChurn),
    slowest: [...timeline].sort((x, y) => y.ms - x.ms).slice(0, 8),
    lost,
  };
  say(`churn: ${JSON.stringify(results.churn)}`);

  // --- the end state ------------------------------------------------------------------
  const leader = flags['no-handover'] ? a : b;
  const leaderPort = flags['no-handover'] ? portA : portB;
  const tSettle = performance.now();
  for (;;) {
    const m = await metricsText(leaderPort);
    if (metricSum(m, 'llmroute_operator_queue_depth') === 0 && readyCount === routes.length) break;
    if (performance.now() - tSettle > 300_000) break;
    await sleep(500);
  }
  await sleep(2_000);
  const problems: string[] = [];
  const listAll = async (path: string, query: Record<string, string> = {}) => {
    const items: any[] = [];
    let cont: string | undefined;
    do {
      const page = await api.request<any>('GET', path, { query: { ...query, limit: 500, continue: cont } });
      items.push(...page.items);
      cont = page.metadata?.continue || undefined;
    } while (cont);
    return items;
  };
  const liveRoutes = await listAll('/apis/llmroute.dev/v1alpha1/llmroutes');
  const cms = new Map((await listAll('/api/v1/configmaps', { fieldSelector: 'metadata.name=llmroute-config' })).map((c) => [c.metadata.namespace as string, c]));
  const byNs = new Map<string, any[]>();
  for (const rt of liveRoutes) {
    if (!isReady(rt)) problems.push(`${rt.metadata.namespace}/${rt.metadata.name}: generation ${rt.metadata.generation}, observedGeneration ${rt.status?.observedGeneration}, not Ready`);
    byNs.set(rt.metadata.namespace, [...(byNs.get(rt.metadata.namespace) ?? []), rt]);
  }
  for (const [ns, rts] of byNs) {
    const cm = cms.get(ns);
    if (!cm) {
      problems.push(`${ns}: no ConfigMap`);
      continue;
    }
    const file = yaml.load(cm.data?.['config.yaml'] ?? '') as { routes?: Array<{ name: string; targets: Array<{ name: string; model: string }> }> };
    const rendered = new Map((file.routes ?? []).map((x) => [x.name, x]));
    for (const rt of rts) {
      const got = rendered.get(rt.metadata.name)?.targets?.find((t) => t.name === 't0')?.model;
      if (got !== rt.spec.targets[0].model) problems.push(`${ns}/${rt.metadata.name}: the ConfigMap has model ${got}, the route ${rt.spec.targets[0].model}`);
    }
    if (rendered.size !== rts.length) problems.push(`${ns}: the ConfigMap has ${rendered.size} routes, the namespace ${rts.length}`);
  }
  const mL = await metricsText(leaderPort);
  results.endState = {
    routesChecked: liveRoutes.length,
    configMapsChecked: byNs.size,
    problems: problems.slice(0, 20),
    problemCount: problems.length,
    settleS: secs(performance.now() - tSettle),
  };
  results.replicaB = {
    ...standby,
    peakRssMbAfterTakeover: mb(Math.max(rssB.peakMb, hwmMb(b.proc.pid!) ?? 0)),
    settledRssMbAfterTakeover: mb(treeRssMb(b.proc.pid!)),
    listCalls: metricSum(mL, 'llmroute_operator_kube_requests_total', { verb: 'list' }),
    watchErrors: metricSum(mL, 'llmroute_operator_watch_errors_total'),
    writes: metricSum(mL, 'llmroute_operator_api_writes_total'),
  };
  void leader;
  if (problems.length) failed = true;
  say(`end state: ${problems.length ? `${problems.length} problems, e.g. ${problems.slice(0, 3).join('; ')}` : 'every route and ConfigMap checks out'}`);
  watchAbort.abort();
  api.close();
}

function report(): string {
  const A = results.replicaA as Record<string, any> | undefined;
  const B = results.replicaB as Record<string, any> | undefined;
  const C = results.churn as Record<string, any> | undefined;
  const E = results.endState as Record<string, any> | undefined;
  const op = results.operator as Record<string, any> | undefined;
  const lines = [
    `## Operator at scale ${scale}: ${results.namespaces} namespaces, ${results.routes} LLMRoutes, ${results.labelledSecrets} labelled + ${results.unrelatedSecrets} unrelated 4 KiB Secrets`,
    '',
    `operator: ${op?.build}${op?.nodeFlags?.length ? ` run as node ${op.nodeFlags.join(' ')}` : ''}; Secrets watch: ${op?.secretsWatch}${op?.extraFlags?.length ? `; flags ${op.extraFlags.join(' ')}` : ''}; created in ${results.creationTotalS} s (${Object.entries((results.creation as Record<string, number>) ?? {}).map(([k, v]) => `${k} ${v} s`).join(', ')})`,
    '',
    '| measure | value |',
    '|---|---|',
    `| every route Ready after start | ${A?.readyS} s |`,
    `| CPU until then | ${A?.cpuSyncS} s |`,
    `| CPU at rest (${REST_S} s window) | ${A?.cpuRestPercentOfACore} % of a core |`,
    `| RSS peak / settled (leader) | ${A?.peakRssMb} / ${A?.settledRssMb} MB |`,
    `| RSS standby synced / after takeover peak, settled | ${B?.settledRssMb} / ${B?.peakRssMbAfterTakeover}, ${B?.settledRssMbAfterTakeover} MB |`,
    `| LIST calls to Ready (operator's count; API server's) | ${A?.listCalls} (${JSON.stringify(A?.listCallsByResource)}); ${A?.listCallsSeenByApiserver} |`,
    `| writes to Ready | ${A?.writesToReady} |`,
    `| churn ${C?.updates} updates, ${C?.inFlight} in flight: change → ConfigMap p50 / p99 / max | ${C?.p50Ms} / ${C?.p99Ms} / ${C?.maxMs} ms |`,
    `| before the handover (${C?.beforeHandover?.updates} updates) p50 / p99 | ${C?.beforeHandover?.p50Ms} / ${C?.beforeHandover?.p99Ms} ms |`,
    `| started after the new leader took over (${C?.afterTakeover?.updates} updates) p50 / p99 | ${C?.afterTakeover?.p50Ms} / ${C?.afterTakeover?.p99Ms} ms |`,
    `| in flight across the handover | ${C?.acrossHandover} updates, slowest ${C?.acrossHandoverMaxMs} ms |`,
    `| handover (SIGTERM → new leader) | ${C?.handoverMs} ms |`,
    `| updates lost | ${C?.lost} |`,
    `| new leader: LIST calls in all, watch errors | ${B?.listCalls}, ${B?.watchErrors} |`,
    `| end state (${E?.routesChecked} routes, ${E?.configMapsChecked} ConfigMaps) | ${E?.problemCount === 0 ? 'all consistent' : `${E?.problemCount} problems`} |`,
  ];
  return lines.join('\n') + '\n';
}

let code = 0;
try {
  await main();
} catch (err) {
  say(`failed: ${(err as Error).stack ?? err}`);
  for (const c of children) say(`${c.proc.pid} stderr tail: ${c.stderr().slice(-2000)} stdout tail: ${c.lines.slice(-5).join('\n')}`);
  code = 1;
} finally {
  for (const c of children) await c.stop('SIGTERM', 10_000).catch(() => undefined);
  await cp?.stop().catch(() => undefined);
  if (dist) rmSync(dist, { recursive: true, force: true });
}
mkdirSync(dirname(flags.out), { recursive: true });
writeFileSync(flags.out, JSON.stringify(results, null, 2) + '\n');
process.stdout.write(report());
process.exit(code || (failed ? 3 : 0));
