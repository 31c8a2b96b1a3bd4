/**
 * Turns the rounds into one number per cell (the median of the rounds),
 * checks the goals, and writes Markdown. Goals are reported, never enforced:
 * the process exits 0 whatever they say.
 */
import { median } from './stats.ts';
import { SCENARIOS, STREAM_CONCURRENCY, type CellResult, type ScenarioName } from './scenarios.ts';
import type { TargetName } from './targets.ts';

export interface Aggregate {
  rounds: number;
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  /** Open loop: from the intended send time. */
  cp50?: number;
  cp99?: number;
  cp999?: number;
  offeredRps?: number;
  addedP50?: number;
  addedP99?: number;
  cpuUsPerReq: number | null;
  upstreamCpuUsPerReq: number | null;
  loadgenCpuUsPerReq: number;
  errors: number;
  requests: number;
  statuses: Record<string, number>;
  // stream
  ttfbP50?: number;
  ttfbP99?: number;
  eventsPerSecond?: number;
  // failover
  primaryP50?: number;
  secondaryP50?: number;
  failureP50?: number;
  failovers?: number;
  /** Failover: p50 of the answers that failed over minus p50 of those that did not. */
  failoverCostP50?: number;
}

export function aggregate(rounds: CellResult[]): Aggregate {
  const m = (f: (r: CellResult) => number | null | undefined): number => median(rounds.map(f));
  const statuses: Record<string, number> = {};
  let errors = 0;
  let requests = 0;
  for (const r of rounds) {
    errors += r.errors;
    requests += r.ok + r.errors;
    for (const [k, v] of Object.entries(r.statuses)) statuses[k] = (statuses[k] ?? 0) + v;
  }
  const a: Aggregate = {
    rounds: rounds.length,
    rps: m((r) => r.rps),
    p50: m((r) => r.latency.p50),
    p90: m((r) => r.latency.p90),
    p99: m((r) => r.latency.p99),
    p999: m((r) => r.latency.p999),
    cpuUsPerReq: rounds.some((r) => r.cpuUsPerReq !== null) ? m((r) => r.cpuUsPerReq) : null,
    upstreamCpuUsPerReq: rounds.some((r) => r.upstreamCpuUsPerReq !== null) ? m((r) => r.upstreamCpuUsPerReq) : null,
    loadgenCpuUsPerReq: m((r) => r.loadgenCpuUsPerReq),
    errors,
    requests,
    statuses,
  };
  const first = rounds[0];
  if (first && 'corrected' in first && first.corrected) {
    a.cp50 = m((r) => ('corrected' in r ? r.corrected?.p50 : undefined));
    a.cp99 = m((r) => ('corrected' in r ? r.corrected?.p99 : undefined));
    a.cp999 = m((r) => ('corrected' in r ? r.corrected?.p999 : undefined));
    a.offeredRps = first.offeredRps;
  }
  if (first && 'ttfb' in first) {
    a.ttfbP50 = m((r) => ('ttfb' in r ? r.ttfb.p50 : undefined));
    a.ttfbP99 = m((r) => ('ttfb' in r ? r.ttfb.p99 : undefined));
    a.eventsPerSecond = m((r) => ('eventsPerSecond' in r ? r.eventsPerSecond : undefined));
  }
  if (first && 'byPrimary' in first) {
    a.primaryP50 = m((r) => ('byPrimary' in r ? r.byPrimary.p50 : undefined));
    a.secondaryP50 = m((r) => ('bySecondary' in r ? r.bySecondary.p50 : undefined));
    a.failureP50 = m((r) => ('failures' in r ? r.failures.p50 : undefined));
    a.failovers = rounds.reduce((s, r) => s + ('bySecondary' in r ? r.bySecondary.count : 0), 0);
    a.failoverCostP50 = a.secondaryP50 - a.primaryP50;
  }
  return a;
}

/**
 * The latency "added" is computed from. Open-loop runs use send→done: the schedule never waits
 * for an answer and undici's queue time is inside it, so it is free of coordinated omission; the
 * due→done figure adds the generator's own timer lateness (about 1 ms of setTimeout granularity),
 * the same for every target.
 */
function lat(a: Aggregate, q: 'p50' | 'p99'): number {
  return q === 'p50' ? a.p50 : a.p99;
}

export function addDirect(results: Partial<Record<ScenarioName, Partial<Record<TargetName, Aggregate>>>>): void {
  for (const [scenario, byTarget] of Object.entries(results)) {
    if (!byTarget || scenario === 'failover') continue;
    const d = byTarget.direct;
    if (!d) continue;
    for (const a of Object.values(byTarget)) {
      if (!a) continue;
      if (scenario === 'stream' || scenario === 'slow-stream') {
        a.addedP50 = (a.ttfbP50 ?? NaN) - (d.ttfbP50 ?? NaN);
        a.addedP99 = (a.ttfbP99 ?? NaN) - (d.ttfbP99 ?? NaN);
      } else {
        a.addedP50 = lat(a, 'p50') - lat(d, 'p50');
        a.addedP99 = lat(a, 'p99') - lat(d, 'p99');
      }
    }
  }
}

// ------------------------------------------------------------------ goals

export interface Goal {
  goal: string;
  measured: string;
  pass: boolean | null;
}

const f1 = (x: number | null | undefined): string => (x === null || x === undefined || !Number.isFinite(x) ? '—' : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const ms = (x: number | null | undefined): string => (x === null || x === undefined || !Number.isFinite(x) ? '—' : `${x.toFixed(x < 10 ? 3 : 1)} ms`);
const ratio = (x: number): string => (Number.isFinite(x) ? `${x.toFixed(2)}×` : '—');

export interface MemoryInfo {
  idleMb: number | null;
  peakMb: number | null;
}

export function checkGoals(
  r: Partial<Record<ScenarioName, Partial<Record<TargetName, Aggregate>>>>,
  memory: Partial<Record<TargetName, MemoryInfo>>,
): Goal[] {
  const goals: Goal[] = [];
  const g = (goal: string, measured: string, pass: boolean | null): void => {
    goals.push({ goal, measured, pass });
  };
  const s = (sc: ScenarioName, t: TargetName): Aggregate | undefined => r[sc]?.[t];
  const known = (...xs: Array<number | null | undefined>): boolean => xs.every((x) => typeof x === 'number' && Number.isFinite(x));

  const sat = s('c64', 'sidecar');
  const fsat = s('c64', 'floor');
  if (sat && fsat) {
    const x = sat.rps / fsat.rps;
    g('saturation ≥ 0.7× floor (c64 req/s)', `${f1(sat.rps)} vs ${f1(fsat.rps)} req/s = ${ratio(x)}`, known(x) ? x >= 0.7 : null);
  }
  for (const sc of ['c64', 'r1000'] as const) {
    const a = s(sc, 'sidecar');
    const b = s(sc, 'floor');
    if (a && b && a.cpuUsPerReq !== null && b.cpuUsPerReq !== null) {
      const x = a.cpuUsPerReq / b.cpuUsPerReq;
      g(`CPU/request ≤ 1.4× floor (${sc})`, `${f1(a.cpuUsPerReq)} vs ${f1(b.cpuUsPerReq)} µs = ${ratio(x)}`, known(x) ? x <= 1.4 : null);
    }
  }
  const r1 = s('r1000', 'sidecar');
  const r1f = s('r1000', 'floor');
  if (r1 && r1f) {
    const x = (r1.addedP50 ?? NaN) / (r1f.addedP50 ?? NaN);
    g('added p50 at 1,000 req/s ≤ 1.3× floor\'s added p50', `${ms(r1.addedP50)} vs ${ms(r1f.addedP50)} = ${ratio(x)}`, known(x) ? x <= 1.3 : null);
    g('added p99 at 1,000 req/s ≤ 2 ms', ms(r1.addedP99), known(r1.addedP99) ? (r1.addedP99 as number) <= 2 : null);
  }
  const pk = s('c64', 'portkey');
  if (sat && pk) {
    const x = sat.rps / pk.rps;
    // The floor's own ratio is the most any Node proxy could show on this machine: say it beside the goal.
    const bound = fsat ? `; the floor itself: ${ratio(fsat.rps / pk.rps)}` : '';
    g('saturation ≥ 10× Portkey\'s', `${f1(sat.rps)} vs ${f1(pk.rps)} req/s = ${ratio(x)}${bound}`, known(x) ? x >= 10 : null);
  }
  for (const peer of ['portkey', 'litellm'] as const) {
    for (const sc of ['c1', 'r1000'] as const) {
      const a = s(sc, 'sidecar');
      const b = s(sc, peer);
      if (a && b) g(`lower added p50 than ${peer} (${sc})`, `${ms(a.addedP50)} vs ${ms(b.addedP50)}`, known(a.addedP50, b.addedP50) ? (a.addedP50 as number) < (b.addedP50 as number) : null);
    }
  }
  const st = s('slow-stream', 'sidecar');
  const stf = s('slow-stream', 'floor');
  if (st && stf) {
    const x = (st.ttfbP50 ?? NaN) / (stf.ttfbP50 ?? NaN);
    g('streaming TTFB p50 within 1.2× floor (paced stream)', `${ms(st.ttfbP50)} vs ${ms(stf.ttfbP50)} = ${ratio(x)}`, known(x) ? x <= 1.2 : null);
  }
  const bt = s('stream', 'sidecar');
  const btf = s('stream', 'floor');
  if (bt && btf) {
    const x = (bt.ttfbP50 ?? NaN) / (btf.ttfbP50 ?? NaN);
    g(`(for information) first byte p50 of burst streams, ${STREAM_CONCURRENCY} at once, vs floor`, `${ms(bt.ttfbP50)} vs ${ms(btf.ttfbP50)} = ${ratio(x)}`, null);
  }
  const slow = s('slow-stream', 'sidecar');
  if (slow) {
    const ok = known(slow.ttfbP50, slow.p50) && (slow.ttfbP50 as number) < 0.5 * slow.p50;
    g('no whole-stream buffering (slow stream: first chunk long before the end)', `first chunk ${ms(slow.ttfbP50)}, whole stream ${ms(slow.p50)}`, known(slow.ttfbP50) ? ok : null);
  }
  const mem = memory.sidecar;
  if (mem) {
    const fm = memory.floor;
    const floorSays = (v: number | null | undefined): string => (fm && typeof v === 'number' ? `; the floor: ${f1(v)} MB` : '');
    g('idle RSS ≤ 60 MB', `${f1(mem.idleMb)} MB${floorSays(fm?.idleMb)}`, mem.idleMb === null ? null : mem.idleMb <= 60);
    g('peak RSS ≤ 150 MB', `${f1(mem.peakMb)} MB${floorSays(fm?.peakMb)}`, mem.peakMb === null ? null : mem.peakMb <= 150);
  }
  const fo = s('failover', 'sidecar');
  const fd = s('failover', 'direct');
  if (fo && fd) {
    const cost = fo.failoverCostP50 ?? NaN;
    const own = fd.failureP50 ?? NaN;
    g('failover costs ≤ the primary\'s own response time + 1 ms', `failover adds ${ms(cost)}; the primary's 503 takes ${ms(own)} (budget ${ms(own + 1)})`, known(cost, own) ? cost <= own + 1 : null);
  }
  return goals;
}

// --------------------------------------------------------------- markdown

export interface ReportInput {
  title: string;
  meta: Record<string, string>;
  labels: Partial<Record<TargetName, string>>;
  order: TargetName[];
  results: Partial<Record<ScenarioName, Partial<Record<TargetName, Aggregate>>>>;
  memory: Partial<Record<TargetName, MemoryInfo>>;
  goals: Goal[];
  notes: string[];
}

function table(head: string[], rows: string[][]): string {
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map((h, i) => (i === 0 ? '---' : '---:'))), ...rows.map(line)].join('\n');
}

function errorsCell(a: Aggregate, expectFailures = false): string {
  if (expectFailures) return String(a.statuses['503'] ?? 0) + ' (503s)';
  if (a.errors === 0) return '0';
  const detail = Object.entries(a.statuses)
    .filter(([k]) => !/^2\d\d$/.test(k))
    .map(([k, v]) => `${v}×${k}`)
    .join(', ');
  return `${a.errors}${detail ? ` (${detail})` : ''}`;
}

export function markdown(input: ReportInput): string {
  const out: string[] = [`# ${input.title}`, ''];
  out.push(table(['', ''], Object.entries(input.meta).map(([k, v]) => [k, v])), '');
  const { results, order } = input;
  const present = (sc: ScenarioName): TargetName[] => order.filter((t) => results[sc]?.[t]);

  for (const sc of ['c1', 'c64'] as const) {
    if (!results[sc]) continue;
    out.push(`## ${SCENARIOS[sc].title}`, '');
    out.push(
      table(
        ['target', 'req/s', 'p50', 'p99', 'p99.9', 'added p50', 'added p99', 'CPU µs/req', 'errors'],
        present(sc).map((t) => {
          const a = results[sc]![t]!;
          return [t, f1(a.rps), ms(a.p50), ms(a.p99), ms(a.p999), t === 'direct' ? '—' : ms(a.addedP50), t === 'direct' ? '—' : ms(a.addedP99), f1(a.cpuUsPerReq), errorsCell(a)];
        }),
      ),
      '',
    );
  }
  for (const sc of ['r1000', 'r5000'] as const) {
    if (!results[sc]) continue;
    out.push(`## ${SCENARIOS[sc].title}`, '');
    out.push(
      'Latency from the send of each request to its last byte; the schedule never waits for answers, so a stall shows up in every request due during it. "due→done" p99 also counts the generator\'s own timer lateness (same for every target).',
      '',
    );
    out.push(
      table(
        ['target', 'achieved req/s', 'p50', 'p99', 'p99.9', 'due→done p99', 'added p50', 'added p99', 'CPU µs/req', 'errors'],
        present(sc).map((t) => {
          const a = results[sc]![t]!;
          const short = a.offeredRps && a.rps < 0.95 * a.offeredRps ? ' (overloaded)' : '';
          return [t, f1(a.rps) + short, ms(a.p50), ms(a.p99), ms(a.p999), ms(a.cp99), t === 'direct' ? '—' : ms(a.addedP50), t === 'direct' ? '—' : ms(a.addedP99), f1(a.cpuUsPerReq), errorsCell(a)];
        }),
      ),
      '',
    );
  }
  if (results.stream) {
    out.push(`## ${SCENARIOS.stream.title}`, '');
    out.push(
      table(
        ['target', 'streams/s', 'SSE events/s', 'first byte p50', 'first byte p99', 'whole stream p50', 'added first byte p50', 'CPU µs/stream', 'errors'],
        present('stream').map((t) => {
          const a = results.stream![t]!;
          return [t, f1(a.rps), f1(a.eventsPerSecond), ms(a.ttfbP50), ms(a.ttfbP99), ms(a.p50), t === 'direct' ? '—' : ms(a.addedP50), f1(a.cpuUsPerReq), errorsCell(a)];
        }),
      ),
      '',
    );
  }
  if (results['slow-stream']) {
    out.push(`## ${SCENARIOS['slow-stream'].title}`, '');
    out.push(
      table(
        ['target', 'TTFB p50', 'TTFB p99', 'added TTFB p50', 'whole stream p50', 'relayed as it came', 'errors'],
        present('slow-stream').map((t) => {
          const a = results['slow-stream']![t]!;
          const ok = Number.isFinite(a.ttfbP50) && (a.ttfbP50 as number) < 0.5 * a.p50;
          return [t, ms(a.ttfbP50), ms(a.ttfbP99), t === 'direct' ? '—' : ms(a.addedP50), ms(a.p50), Number.isFinite(a.ttfbP50) ? (ok ? 'yes' : '**no: buffered**') : '—', errorsCell(a)];
        }),
      ),
      '',
    );
  }
  if (results.failover) {
    out.push(`## ${SCENARIOS.failover.title}`, '');
    out.push(
      'Closed loop, 4 connections. "direct" is the primary itself: its 503s and its successes. For the proxies, "failed over" are the answers the secondary served (the primary said 503 first); the failover cost is their p50 minus the p50 of answers the primary served.',
      '',
    );
    out.push(
      table(
        ['target', 'req/s', 'served by primary p50', 'failed over p50', 'failovers', 'failover cost p50', 'primary\'s 503 p50', 'CPU µs/req', 'errors'],
        present('failover').map((t) => {
          const a = results.failover![t]!;
          return [t, f1(a.rps), ms(a.primaryP50), t === 'direct' ? '—' : ms(a.secondaryP50), t === 'direct' ? '—' : String(a.failovers ?? 0), t === 'direct' ? '—' : ms(a.failoverCostP50), t === 'direct' ? ms(a.failureP50) : '—', f1(a.cpuUsPerReq), errorsCell(a, t === 'direct')];
        }),
      ),
      '',
    );
  }
  const memRows = order.filter((t) => input.memory[t]).map((t) => [t, f1(input.memory[t]!.idleMb), f1(input.memory[t]!.peakMb)]);
  if (memRows.length) {
    out.push('## Memory (resident set of the proxy process tree; idle = after the two warm-up requests of the preflight, before any load)', '', table(['target', 'idle RSS MB', 'peak RSS MB'], memRows), '');
  }
  if (input.goals.length) {
    out.push('## Goals (reported, not enforced)', '');
    out.push(table(['goal', 'measured', 'result'], input.goals.map((g) => [g.goal, g.measured, g.pass === null ? 'n/a' : g.pass ? 'PASS' : '**FAIL**'])), '');
  }
  out.push('## Targets', '', ...order.filter((t) => input.labels[t]).map((t) => `- **${t}**: ${input.labels[t]}`), '');
  if (input.notes.length) out.push('## Notes', '', ...input.notes.map((n) => `- ${n}`), '');
  return out.join('\n');
}
