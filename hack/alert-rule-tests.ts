/**
 * A `promtool test rules` file for the chart's PrometheusRule, built from series a real run scraped:
 * the real label sets (namespace, pod, container, job, endpoint, instance, route, target, …) and the
 * real values and rates, held or changed so that every alert has a case that fires and one that
 * does not. What each case expects is worked out here from what the alert's expression says
 * (min/max of the circuit state, the fallback/request ratio against the threshold in the expr, an
 * increase of the refused reloads), so promtool checks the rule against that reading of it.
 * Pure: series in, test file out.
 */
import type { RuleGroup } from './pod-monitor-scrape.ts';

export interface Sample {
  /** With __name__. */
  labels: Record<string, string>;
  value: number;
}

export interface Counter extends Sample {
  /** The run's own rate, per minute (rounded to a whole number by the caller or here). */
  perMinute: number;
}

export interface ScenarioSeries {
  circuit: Sample[];
  reloadErrors: Sample[];
  /** At the run's end. */
  fallbacks: Counter[];
  requests: Counter[];
  /** At the run's failover, where its fallback share peaked. */
  failover: { fallbacks: Counter[]; requests: Counter[] };
}

export const ALERTS = ['LLMRouteNoHealthyTarget', 'LLMRouteHighFallbackRate', 'LLMRouteCircuitOpen', 'LLMRouteConfigRefused'] as const;

interface ExpAlert {
  exp_labels: Record<string, string>;
  exp_annotations: Record<string, string>;
}
interface AlertTest {
  eval_time: string;
  alertname: string;
  exp_alerts: ExpAlert[];
}
export interface RuleTest {
  name: string;
  interval: string;
  input_series: Array<{ series: string; values: string }>;
  alert_rule_test: AlertTest[];
}

const MINUTES = 20;

/** A series selector as promtool's input_series reads it: the name, then the labels sorted, values quoted. */
export function seriesText(labels: Record<string, string>): string {
  const { __name__: name, ...rest } = labels;
  const inner = Object.keys(rest)
    .sort()
    .map((k) => `${k}=${JSON.stringify(rest[k])}`)
    .join(',');
  return `${name}{${inner}}`;
}

/** Go's `%.4g` of a finite number in the range alerts print (what humanizePercentage uses after ×100). */
function formatG4(v: number): string {
  if (!Number.isFinite(v)) throw new Error(`cannot format ${v}`);
  if (v !== 0 && (Math.abs(v) >= 1e4 || Math.abs(v) < 1e-4)) throw new Error(`${v}: exponent form not supported`);
  return String(Number(v.toPrecision(4)));
}

/** The alert's annotations as Prometheus expands them: `{{ $labels.x }}` and `{{ $value | humanizePercentage }}`; anything else is refused. */
export function expandAnnotations(annotations: Record<string, string> | undefined, labels: Record<string, string>, value?: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, text] of Object.entries(annotations ?? {})) {
    const expanded = text
      .replace(/\{\{\s*\$labels\.(\w+)\s*\}\}/g, (_m, name: string) => labels[name] ?? '')
      .replace(/\{\{\s*\$value\s*\|\s*humanizePercentage\s*\}\}/g, () => {
        if (value === undefined) throw new Error(`annotation ${k} uses $value`);
        return `${formatG4(value * 100)}%`;
      });
    if (expanded.includes('{{')) throw new Error(`annotation ${k}: a template this test does not expand: ${text}`);
    out[k] = expanded;
  }
  return out;
}

const pick = (labels: Record<string, string>, keys: string[]) => Object.fromEntries(keys.map((k) => [k, labels[k] ?? '']));
const keyOf = (labels: Record<string, string>, keys: string[]) => keys.map((k) => labels[k] ?? '').join('\0');

function groupBy<T extends Sample>(samples: T[], keys: string[]): Map<string, { labels: Record<string, string>; members: T[] }> {
  const m = new Map<string, { labels: Record<string, string>; members: T[] }>();
  for (const s of samples) {
    const k = keyOf(s.labels, keys);
    let g = m.get(k);
    if (!g) m.set(k, (g = { labels: pick(s.labels, keys), members: [] }));
    g.members.push(s);
  }
  return m;
}

/** The threshold of `… > <number>` at the end of an expression. */
function threshold(expr: string): number {
  const m = />\s*([0-9.eE+-]+)\s*$/.exec(expr.trim());
  if (!m) throw new Error(`no "> threshold" at the end of: ${expr}`);
  return Number(m[1]);
}

function sortAlerts(a: ExpAlert[]): ExpAlert[] {
  return a.sort((x, y) => JSON.stringify(x.exp_labels).localeCompare(JSON.stringify(y.exp_labels)));
}

/**
 * The test file (without rule_files) for `groups`. Throws when the rules hold an alert this builder
 * has no cases for (a new alert needs its cases here), or when the series lack what a case needs.
 */
export function buildAlertTests(groups: RuleGroup[], s: ScenarioSeries): { evaluation_interval: string; tests: RuleTest[] } {
  const rules = new Map(groups.flatMap((g) => g.rules).filter((r) => r.alert).map((r) => [r.alert!, r]));
  for (const name of rules.keys()) if (!(ALERTS as readonly string[]).includes(name)) throw new Error(`alert ${name} has no cases in hack/alert-rule-tests.ts`);
  for (const name of ALERTS) if (!rules.has(name)) throw new Error(`alert ${name} is not in the PrometheusRule any more`);
  if (s.circuit.length === 0) throw new Error('no llmroute_circuit_state series');
  if (s.requests.length === 0) throw new Error('no llmroute_requests_total series');
  const rule = (n: (typeof ALERTS)[number]) => rules.get(n)!;
  const alert = (n: (typeof ALERTS)[number], labels: Record<string, string>, value?: number): ExpAlert => ({
    exp_labels: { ...labels, ...rule(n).labels },
    exp_annotations: expandAnnotations(rule(n).annotations, labels, value),
  });
  const wholeMinute = <T extends Counter>(c: T): T => ({ ...c, perMinute: Math.max(0, Math.round(c.perMinute)) });
  const fallbacks = s.fallbacks.map(wholeMinute);
  const requests = s.requests.map(wholeMinute);
  const peakFallbacks = s.failover.fallbacks.map(wholeMinute);
  const peakRequests = s.failover.requests.map(wholeMinute);

  // What the circuit expressions say, for a set of values.
  const noHealthy = (values: Map<Sample, number>) =>
    [...groupBy(s.circuit, ['namespace', 'pod', 'route']).values()].filter((g) => Math.min(...g.members.map((m) => values.get(m)!)) === 2).map((g) => alert('LLMRouteNoHealthyTarget', g.labels));
  const circuitOpen = (values: Map<Sample, number>) =>
    [...groupBy(s.circuit, ['namespace', 'route', 'target']).values()].filter((g) => Math.max(...g.members.map((m) => values.get(m)!)) === 2).map((g) => alert('LLMRouteCircuitOpen', g.labels));
  // sum by (namespace, route) of the fallback rate over the request rate, above the threshold
  const ratio = threshold(rule('LLMRouteHighFallbackRate').expr);
  const highFallback = (fb: Counter[], rq: Counter[]) => {
    const byRouteFb = groupBy(fb, ['namespace', 'route']);
    const byRouteRq = groupBy(rq, ['namespace', 'route']);
    const out: ExpAlert[] = [];
    for (const [k, g] of byRouteFb) {
      const f = g.members.reduce((a, m) => a + m.perMinute, 0);
      const r = (byRouteRq.get(k)?.members ?? []).reduce((a, m) => a + m.perMinute, 0);
      if (r === 0) {
        if (f > 0) throw new Error(`route ${g.labels.route}: fallbacks without requests`);
        continue;
      }
      if (f / r > ratio) out.push(alert('LLMRouteHighFallbackRate', g.labels, f / r));
    }
    return out;
  };
  const held = (v: number) => `${v}x${MINUTES}`;
  const rising = (c: Counter) => `${c.value}+${c.perMinute}x${MINUTES}`;

  // A: the run's series as they were at its end, held for 20 minutes: circuits as they were, counters
  // going on at the run's own rates.
  const realCircuit = new Map(s.circuit.map((c) => [c, c.value]));
  const a: RuleTest = {
    name: 'the scenario, held: its circuits, its fallback and request rates',
    interval: '1m',
    input_series: [
      ...s.circuit.map((c) => ({ series: seriesText(c.labels), values: held(c.value) })),
      ...s.reloadErrors.map((c) => ({ series: seriesText(c.labels), values: held(c.value) })),
      ...fallbacks.map((c) => ({ series: seriesText(c.labels), values: rising(c) })),
      ...requests.map((c) => ({ series: seriesText(c.labels), values: rising(c) })),
    ],
    alert_rule_test: [
      { eval_time: `${MINUTES}m`, alertname: 'LLMRouteNoHealthyTarget', exp_alerts: sortAlerts(noHealthy(realCircuit)) },
      { eval_time: `${MINUTES}m`, alertname: 'LLMRouteCircuitOpen', exp_alerts: sortAlerts(circuitOpen(realCircuit)) },
      { eval_time: `${MINUTES}m`, alertname: 'LLMRouteHighFallbackRate', exp_alerts: sortAlerts(highFallback(fallbacks, requests)) },
      // the refused-reload counters stand still
      { eval_time: `${MINUTES}m`, alertname: 'LLMRouteConfigRefused', exp_alerts: [] },
    ],
  };

  // The failover: the rates of the moment its fallback share peaked, going on for 20 minutes.
  const f: RuleTest = {
    name: "the scenario's failover: its fallback and request rates at their peak, going on",
    interval: '1m',
    input_series: [
      ...s.circuit.map((c) => ({ series: seriesText(c.labels), values: held(c.value) })),
      ...peakFallbacks.map((c) => ({ series: seriesText(c.labels), values: rising(c) })),
      ...peakRequests.map((c) => ({ series: seriesText(c.labels), values: rising(c) })),
    ],
    alert_rule_test: [
      // for: 10m — still pending after 5 minutes, whatever the share
      { eval_time: '5m', alertname: 'LLMRouteHighFallbackRate', exp_alerts: [] },
      { eval_time: `${MINUTES}m`, alertname: 'LLMRouteHighFallbackRate', exp_alerts: sortAlerts(highFallback(peakFallbacks, peakRequests)) },
    ],
  };

  // The same failover, its fallbacks k times as frequent: a share 3× the threshold (errors the breaker
  // does not cut short, e.g. intermittent ones). A failover the breaker stops after a few tries stays
  // under it (its circuits open, the requests go straight to the backup, only the half-open probes
  // fall back): the case above, when the run was such a failover.
  const shares = [...groupBy(peakFallbacks, ['namespace', 'route']).entries()].map(([k, g]) => {
    const fb = g.members.reduce((a, m) => a + m.perMinute, 0);
    const rq = (groupBy(peakRequests, ['namespace', 'route']).get(k)?.members ?? []).reduce((a, m) => a + m.perMinute, 0);
    return rq > 0 ? fb / rq : 0;
  });
  const top = Math.max(0, ...shares);
  if (top === 0) throw new Error('the failover has no fallbacks at its peak');
  const k = top > ratio ? 1 : Math.ceil((3 * ratio) / top - 1e-9);
  const frequent = peakFallbacks.map((c) => ({ ...c, perMinute: c.perMinute * k }));
  const f2: RuleTest = {
    name: `the scenario's failover, its fallbacks ${k}× as frequent`,
    interval: '1m',
    input_series: [
      ...s.circuit.map((c) => ({ series: seriesText(c.labels), values: held(c.value) })),
      ...frequent.map((c) => ({ series: seriesText(c.labels), values: rising(c) })),
      ...peakRequests.map((c) => ({ series: seriesText(c.labels), values: rising(c) })),
    ],
    alert_rule_test: [
      { eval_time: '5m', alertname: 'LLMRouteHighFallbackRate', exp_alerts: [] },
      { eval_time: `${MINUTES}m`, alertname: 'LLMRouteHighFallbackRate', exp_alerts: sortAlerts(highFallback(frequent, peakRequests)) },
    ],
  };

  // B: every target of one pod's route open (and one target of the same route in another pod, when
  // there is one), the rest closed; that pod refuses a config at minute 5; no fallbacks.
  const groups3 = [...groupBy(s.circuit, ['namespace', 'pod', 'route']).values()];
  const g = groups3[0]!;
  const g2 = groups3.find((x) => x !== g && x.labels.namespace === g.labels.namespace && x.labels.route === g.labels.route);
  const openCircuit = new Map(s.circuit.map((c) => [c, g.members.includes(c) || c === g2?.members[0] ? 2 : 0]));
  const refusing = s.reloadErrors.find((r) => r.labels.namespace === g.labels.namespace && r.labels.pod === g.labels.pod);
  if (!refusing) throw new Error(`no llmroute_config_reloads_total{result="error"} series of ${g.labels.namespace}/${g.labels.pod}`);
  const { __name__: _n, ...refusedLabels } = refusing.labels;
  const b: RuleTest = {
    name: "one pod's route with every circuit open; that pod refuses a config at minute 5; no fallbacks",
    interval: '1m',
    input_series: [
      ...s.circuit.map((c) => ({ series: seriesText(c.labels), values: held(openCircuit.get(c)!) })),
      ...s.reloadErrors.map((c) => ({ series: seriesText(c.labels), values: c === refusing ? `${c.value}x4 ${c.value + 1}x${MINUTES - 5}` : held(c.value) })),
      ...fallbacks.map((c) => ({ series: seriesText(c.labels), values: held(c.value) })),
      ...requests.map((c) => ({ series: seriesText(c.labels), values: rising(c) })),
    ],
    alert_rule_test: [
      // for: 1m — pending at first
      { eval_time: '0m', alertname: 'LLMRouteNoHealthyTarget', exp_alerts: [] },
      { eval_time: '2m', alertname: 'LLMRouteNoHealthyTarget', exp_alerts: sortAlerts(noHealthy(openCircuit)) },
      // for: 5m
      { eval_time: '2m', alertname: 'LLMRouteCircuitOpen', exp_alerts: [] },
      { eval_time: '6m', alertname: 'LLMRouteCircuitOpen', exp_alerts: sortAlerts(circuitOpen(openCircuit)) },
      { eval_time: `${MINUTES}m`, alertname: 'LLMRouteHighFallbackRate', exp_alerts: [] },
      { eval_time: '4m', alertname: 'LLMRouteConfigRefused', exp_alerts: [] },
      { eval_time: '6m', alertname: 'LLMRouteConfigRefused', exp_alerts: [alert('LLMRouteConfigRefused', refusedLabels)] },
    ],
  };
  return { evaluation_interval: '1m', tests: [a, f, f2, b] };
}

/** Which alerts fire in some case and which are checked not firing in some case. */
export function coverage(t: { tests: RuleTest[] }): Record<string, { firing: number; notFiring: number }> {
  const out: Record<string, { firing: number; notFiring: number }> = {};
  for (const test of t.tests) {
    for (const c of test.alert_rule_test) {
      const e = (out[c.alertname] ??= { firing: 0, notFiring: 0 });
      if (c.exp_alerts.length) e.firing++;
      else e.notFiring++;
    }
  }
  return out;
}
