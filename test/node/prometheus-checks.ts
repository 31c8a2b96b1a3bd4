// The Prometheus part of the node story (story.test.ts runs it once the story's pods, failover and
// streams have happened): Debian's Prometheus, configured from the chart's rendered PodMonitor and
// ServiceMonitor (harness/chart-prometheus.ts), has scraped the node all along. Checked here:
//   - every injected sidecar's admin port is a target and up, and the operator's metrics too;
//   - the sidecar's series carry their metric names and labels, and the target labels prometheus-operator sets;
//   - the PrometheusRule's rules load and evaluate in the live Prometheus, pass `promtool check rules`,
//     and `promtool test rules` on a test file built from the scraped series (hack/alert-rule-tests.ts);
//   - every query of the shipped Grafana dashboard returns data.
import { expect } from '@jest/globals';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { buildAlertTests, coverage, type Counter, type Sample } from '../../hack/alert-rule-tests.ts';
import { dashboardQueries } from '../../hack/pod-monitor-scrape.ts';
import type { ChartPrometheus } from './harness/chart-prometheus.ts';
import { kubectl, kubectlJson, pollUntil } from './harness/cluster.ts';
import { promtool } from './harness/prometheus.ts';

const SIDECAR = 'llmroute-sidecar';
const ADMIN_PORT_NAME = 'llmroute-admin';

interface VectorSample {
  metric: Record<string, string>;
  value: [number, string];
}

/** The sidecar's metrics (sidecar/src/metrics.ts) the scenario makes, with the labels each must carry. */
export const SIDECAR_SERIES: Record<string, string[]> = {
  llmroute_requests_total: ['route', 'target', 'status', 'api'],
  llmroute_upstream_attempts_total: ['route', 'target', 'outcome'],
  llmroute_fallbacks_total: ['route', 'from', 'to', 'reason'],
  llmroute_request_duration_seconds_bucket: ['route', 'target', 'api', 'le'],
  llmroute_time_to_first_token_seconds_bucket: ['route', 'target', 'api', 'le'],
  llmroute_tokens_total: ['route', 'target', 'kind'],
  llmroute_circuit_state: ['route', 'target'],
  llmroute_config_reloads_total: ['result'],
  llmroute_inflight_requests: [],
};

/** The pods the webhook injected that run now (namespace/name → IP), from the API: the sidecar with its admin port. */
function injectedPods(): Map<string, { ip: string; port: number }> {
  const pods = kubectlJson<{ items: any[] }>(['get', 'pods', '-A', '-l', 'llmroute.dev/inject=true']).items;
  const out = new Map<string, { ip: string; port: number }>();
  for (const p of pods) {
    if (p.metadata.deletionTimestamp || p.status.phase !== 'Running') continue;
    const port = (p.spec.initContainers ?? []).find((c: any) => c.name === SIDECAR)?.ports?.find((x: any) => x.name === ADMIN_PORT_NAME)?.containerPort;
    if (port) out.set(`${p.metadata.namespace}/${p.metadata.name}`, { ip: p.status.podIP, port });
  }
  return out;
}

const stream = (n: number) => `
(async () => {
  let ok = 0;
  for (let i = 0; i < ${n}; i++) {
    const r = await fetch(process.env.OPENAI_BASE_URL + '/chat/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer ' + process.env.OPENAI_API_KEY },
      body: JSON.stringify({ model: 'chat', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    });
    const text = await r.text();
    if (r.status === 200 && text.includes('data: ')) ok++;
  }
  console.log(ok);
})();
`;

export async function checkPrometheus(cp: ChartPrometheus, o: { namespace: string; route: string; appPods: string[]; figures: Record<string, unknown> }): Promise<void> {
  const { prom, podMonitor, serviceMonitor, rules, dashboard } = cp;
  const timings: Record<string, number> = { prometheusReadyMs: cp.readyMs };
  o.figures.prometheus = timings;
  const query = (q: string, time?: number) => prom.api<{ resultType: string; result: VectorSample[] }>('/api/v1/query', { query: q, ...(time ? { time: String(time) } : {}) }).then((d) => d.result);
  const podJob = `${podMonitor.metadata.namespace}/${podMonitor.metadata.name}`;
  const podPool = `podMonitor/${podJob}/0`;
  // job = the Service's name, as prometheus-operator sets it for a ServiceMonitor
  const metricsService = cp.objects.find((x) => x.kind === 'Service' && x.metadata.labels?.['app.kubernetes.io/component'] === 'metrics')?.metadata.name as string;
  const servicePool = `serviceMonitor/${serviceMonitor.metadata.namespace}/${serviceMonitor.metadata.name}/0`;

  // Streams through each app pod's sidecar (the story's app makes plain calls only): time-to-first-token series.
  let t0 = performance.now();
  const STREAMS = 5;
  for (const pod of o.appPods) expect(kubectl(['-n', o.namespace, 'exec', pod, '-c', 'api', '--', 'node', '-e', stream(STREAMS)]).trim()).toBe(String(STREAMS));
  timings.streamsMs = Math.round(performance.now() - t0);

  // 1. Targets: every injected sidecar's admin port, up; the operator's metrics port, up.
  t0 = performance.now();
  let targets: any[] = [];
  let expected = new Map<string, { ip: string; port: number }>();
  await pollUntil(
    'every injected sidecar pod a target, up',
    async () => {
      expected = injectedPods();
      targets = (await prom.api<{ activeTargets: any[] }>('/api/v1/targets', { state: 'active' })).activeTargets;
      const sidecars = targets.filter((t) => t.scrapePool === podPool);
      const seen = new Map(sidecars.map((t) => [`${t.labels.namespace}/${t.labels.pod}`, t]));
      if (expected.size === 0 || seen.size !== expected.size) return false;
      return [...expected].every(([k, v]) => seen.get(k)?.health === 'up' && seen.get(k)?.labels.instance === `${v.ip}:${v.port}`);
    },
    { timeoutMs: 60_000, intervalMs: 500 },
  );
  await pollUntil('the operator replicas targets, up', async () => {
    targets = (await prom.api<{ activeTargets: any[] }>('/api/v1/targets', { state: 'active' })).activeTargets;
    const ops = targets.filter((t) => t.scrapePool === servicePool);
    return ops.length === 2 && ops.every((t) => t.health === 'up');
  }, { timeoutMs: 30_000, intervalMs: 500 });
  timings.targetsUpMs = Math.round(performance.now() - t0);
  // each running sidecar pod: its Ready condition's lastTransitionTime (1 s resolution) → its first scrape
  // that was up (negative for a pod that went unready and back later: the killed-sidecar check's)
  const upRange = await prom.api<{ result: Array<{ metric: Record<string, string>; values: Array<[number, string]> }> }>('/api/v1/query_range', { query: `up{job="${podJob}"} == 1`, start: String(cp.startedAt), end: String(Date.now() / 1000), step: '1' });
  const readyAt = new Map(
    kubectlJson<{ items: any[] }>(['get', 'pods', '-A', '-l', 'llmroute.dev/inject=true']).items.map((p) => [`${p.metadata.namespace}/${p.metadata.name}`, Date.parse(p.status.conditions?.find((c: any) => c.type === 'Ready' && c.status === 'True')?.lastTransitionTime ?? '') / 1000]),
  );
  o.figures.podLastReadyToFirstUpScrapeS = Object.fromEntries(
    upRange.result
      .map((r) => [`${r.metric.namespace}/${r.metric.pod}`, r.values[0]?.[0]] as const)
      .filter(([k, t]) => expected.has(k) && t !== undefined && Number.isFinite(readyAt.get(k)))
      .map(([k, t]) => [k, +(t! - readyAt.get(k)!).toFixed(1)]),
  );
  o.figures.prometheusTargets = targets.map((t) => ({ pool: t.scrapePool, pod: `${t.labels.namespace}/${t.labels.pod}`, instance: t.labels.instance, health: t.health, lastScrapeDurationS: t.lastScrapeDuration }));
  for (const t of targets.filter((x) => x.scrapePool === podPool)) {
    expect(t.labels).toMatchObject({ job: podJob, container: SIDECAR, endpoint: ADMIN_PORT_NAME });
    expect(t.scrapeUrl).toBe(`http://${t.labels.instance}/metrics`);
  }
  for (const t of targets.filter((x) => x.scrapePool === servicePool)) expect(t.labels).toMatchObject({ job: metricsService, namespace: serviceMonitor.metadata.namespace, endpoint: 'metrics', container: 'operator' });
  // nothing else was kept: pods without the label, labelled pods the webhook left alone (no admin port)
  expect(new Set(targets.map((t) => t.scrapePool))).toEqual(new Set([podPool, servicePool]));

  // the streams' time-to-first-token observations scraped (the last scrape after them)
  await pollUntil(`${o.namespace}'s streams scraped`, async () => Number((await query(`sum(llmroute_time_to_first_token_seconds_count{namespace="${o.namespace}"})`))[0]?.value[1] ?? 0) >= STREAMS * o.appPods.length, { timeoutMs: 30_000, intervalMs: 500 });

  // 2. The series: names, labels, the target labels, the failover's counts.
  t0 = performance.now();
  for (const [name, labels] of Object.entries(SIDECAR_SERIES)) {
    const got = await query(`${name}{namespace="${o.namespace}"}`);
    expect({ name, empty: got.length === 0 }).toEqual({ name, empty: false });
    for (const s of got) {
      for (const l of [...labels, 'namespace', 'pod', 'container', 'job', 'endpoint', 'instance']) expect({ name, label: l, has: l in s.metric }).toEqual({ name, label: l, has: true });
      expect(s.metric).toMatchObject({ job: podJob, container: SIDECAR, endpoint: ADMIN_PORT_NAME });
      expect(o.appPods).toContain(s.metric.pod);
    }
  }
  const sum = async (q: string) => Number((await query(q))[0]?.value[1] ?? 0);
  // the failover: fallbacks from the OpenAI targets to claude, attempts that failed on them, requests claude served
  expect(await sum(`sum(llmroute_fallbacks_total{namespace="${o.namespace}", route="${o.route}", to="claude"})`)).toBeGreaterThan(0);
  expect(await sum(`sum(llmroute_upstream_attempts_total{namespace="${o.namespace}", route="${o.route}", target=~"openai.*", outcome!="ok"})`)).toBeGreaterThan(0);
  expect(await sum(`sum(llmroute_requests_total{namespace="${o.namespace}", route="${o.route}", target="claude", status="200"})`)).toBeGreaterThan(0);
  expect(await sum(`count(up{job="${podJob}"} == 1)`)).toBe(expected.size);
  timings.seriesChecksMs = Math.round(performance.now() - t0);

  // 3. The rules: loaded by the live Prometheus and evaluated without error; promtool check and test.
  t0 = performance.now();
  await pollUntil('every rule evaluated', async () => {
    const groups = (await prom.api<{ groups: Array<{ rules: Array<{ health: string; lastEvaluation: string }> }> }>('/api/v1/rules')).groups;
    return groups.length === rules.groups.length && groups.every((g) => g.rules.every((r) => r.health === 'ok'));
  }, { timeoutMs: 20_000, intervalMs: 500 });
  const live = (await prom.api<{ groups: Array<{ rules: Array<{ name: string; health: string; lastError?: string; state?: string }> }> }>('/api/v1/rules')).groups.flatMap((g) => g.rules);
  expect(live.map((r) => [r.name, r.health, r.lastError ?? ''])).toEqual(rules.groups.flatMap((g) => g.rules).map((r) => [r.alert ?? r.record, 'ok', '']));
  o.figures.liveAlertStates = Object.fromEntries(live.map((r) => [r.name, r.state]));
  const dir = prom.dir;
  const check = promtool(['check', 'rules', 'rules.yaml'], dir);
  expect({ status: check.status, output: check.output }).toMatchObject({ status: 0 });
  const checkConfig = promtool(['check', 'config', '--syntax-only', 'prometheus.yml'], dir);
  expect({ status: checkConfig.status, output: checkConfig.output }).toMatchObject({ status: 0 });

  const samples = async (q: string, time?: number): Promise<Sample[]> => (await query(q, time)).map((s) => ({ labels: s.metric, value: Number(s.value[1]) }));
  // the run's own rates, per minute, over the `window` before `time` (now by default)
  const key = (l: Record<string, string>) => JSON.stringify(Object.entries(l).filter(([k]) => k !== '__name__').sort(([a], [b]) => (a < b ? -1 : 1)));
  const counters = async (name: string, window: string, time?: number): Promise<Counter[]> => {
    const rates = new Map((await samples(`rate(${name}{job="${podJob}"}[${window}]) * 60`, time)).map((s) => [key(s.labels), s.value]));
    return (await samples(`${name}{job="${podJob}"}`, time)).map((s) => ({ ...s, perMinute: rates.get(key(s.labels)) ?? 0 }));
  };
  // The failover: where, over the whole run, the fallback share of a route peaked (20 s rates).
  const share = `sum by (namespace, route) (rate(llmroute_fallbacks_total{job="${podJob}"}[20s])) / sum by (namespace, route) (rate(llmroute_requests_total{job="${podJob}"}[20s]))`;
  const end = Date.now() / 1000;
  const range = await prom.api<{ result: Array<{ metric: Record<string, string>; values: Array<[number, string]> }> }>('/api/v1/query_range', { query: share, start: String(cp.startedAt), end: String(end), step: '2' });
  let peak: { t: number; v: number; route: string } = { t: 0, v: -1, route: '' };
  for (const r of range.result) for (const [t, v] of r.values) if (Number.isFinite(Number(v)) && Number(v) > peak.v) peak = { t, v: Number(v), route: `${r.metric.namespace}/${r.metric.route}` };
  o.figures.failoverPeak = { ...peak, secondsBeforeEnd: Math.round(end - peak.t) };
  expect(peak.route).toBe(`${o.namespace}/${o.route}`);
  const scenario = {
    circuit: await samples(`llmroute_circuit_state{job="${podJob}"}`),
    reloadErrors: await samples(`llmroute_config_reloads_total{job="${podJob}", result="error"}`),
    // the last minute: the failover goes on (the primary's key stays wrong), its circuits open
    fallbacks: await counters('llmroute_fallbacks_total', '1m'),
    requests: await counters('llmroute_requests_total', '1m'),
    failover: { fallbacks: await counters('llmroute_fallbacks_total', '20s', peak.t), requests: await counters('llmroute_requests_total', '20s', peak.t) },
  };
  const perMinute = (cs: Counter[]) => cs.filter((c) => c.perMinute > 0).map((c) => ({ pod: c.labels.pod, route: c.labels.route, ...(c.labels.from ? { from: c.labels.from, to: c.labels.to, reason: c.labels.reason } : { target: c.labels.target, status: c.labels.status }), perMinute: +c.perMinute.toFixed(1) }));
  o.figures.alertInputs = {
    circuits: scenario.circuit.map((c) => ({ pod: c.labels.pod, route: c.labels.route, target: c.labels.target, state: c.value })),
    reloadErrors: scenario.reloadErrors.length,
    lastMinute: { fallbacks: perMinute(scenario.fallbacks), requests: perMinute(scenario.requests) },
    failoverPeak: { fallbacks: perMinute(scenario.failover.fallbacks), requests: perMinute(scenario.failover.requests) },
  };
  const testFile = { rule_files: ['rules.yaml'], ...buildAlertTests(rules.groups, scenario) };
  const cov = coverage(testFile);
  o.figures.alertCoverage = cov;
  for (const g of rules.groups) for (const r of g.rules) if (r.alert) expect({ alert: r.alert, firing: cov[r.alert]!.firing > 0, notFiring: cov[r.alert]!.notFiring > 0 }).toEqual({ alert: r.alert, firing: true, notFiring: true });
  writeFileSync(path.join(dir, 'rules.test.yaml'), yaml.dump(testFile, { lineWidth: -1 }));
  const test = promtool(['test', 'rules', 'rules.test.yaml'], dir);
  expect({ status: test.status, output: test.output }).toMatchObject({ status: 0 });
  timings.rulesMs = Math.round(performance.now() - t0);

  // 4. The dashboard: its variables' own queries, then every panel query, substituted as Grafana
  // would with "All" selected, returns data (and a number, not only NaN, for each).
  t0 = performance.now();
  for (const v of dashboard.templating?.list ?? []) {
    if (v.type !== 'query') continue;
    const m = /^label_values\((?:(.+),\s*)?(\w+)\)$/.exec(String(v.query).trim());
    if (!m) throw new Error(`dashboard variable ${v.name}: a query this test does not read: ${v.query}`);
    const match = m[1]?.replace(/\$namespace/g, '.*');
    const values = await prom.api<string[]>(`/api/v1/label/${m[2]}/values`, match ? { 'match[]': match } : {});
    expect({ variable: v.name, values }).toEqual({ variable: v.name, values: expect.arrayContaining([v.name === 'namespace' ? o.namespace : o.route]) });
  }
  const queries = dashboardQueries(dashboard, { namespace: '.*', route: '.*', __rate_interval: '1m', __interval: '15s', __range: '5m', datasource: 'prometheus' });
  expect(queries.length).toBeGreaterThan(0);
  const results: Array<{ panel: string; expr: string; series: number; numbers: number }> = [];
  for (const q of queries) {
    const r = await query(q.expr);
    results.push({ panel: q.panel, expr: q.expr, series: r.length, numbers: r.filter((s) => Number.isFinite(Number(s.value[1]))).length });
  }
  o.figures.dashboardQueries = results;
  timings.dashboardQueriesMs = Math.round(performance.now() - t0);
  expect(results.filter((r) => r.series === 0 || r.numbers === 0)).toEqual([]);
}
