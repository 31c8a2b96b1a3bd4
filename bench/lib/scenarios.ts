/**
 * The scenarios, and how one cell (one target, one scenario, one round) is
 * run and measured: load from bench/lib/load.ts, the proxy's CPU from /proc
 * before and after the measured window, the load generator's own CPU from
 * process.cpuUsage.
 */
import { closedLoop, failoverLoad, paced, streamLoad, type FailoverResult, type LoadResult, type RequestSpec, type StreamResult } from './load.ts';
import { treeCpuSeconds } from './proc.ts';
import type { RouteName, Target } from './targets.ts';

export type ScenarioName = 'c1' | 'c64' | 'r1000' | 'r5000' | 'stream' | 'slow-stream' | 'failover';
export const ALL_SCENARIOS: ScenarioName[] = ['c1', 'c64', 'r1000', 'r5000', 'stream', 'slow-stream', 'failover'];

export interface ScenarioInfo {
  title: string;
  route: RouteName;
  stream: boolean;
  /** Run in ABAB rounds (slow-stream runs once: it checks a property, not a number). */
  rounds: boolean;
}

export const SCENARIOS: Record<ScenarioName, ScenarioInfo> = {
  c1: { title: 'Closed loop, 1 connection (unloaded latency)', route: 'chat', stream: false, rounds: true },
  c64: { title: 'Closed loop, 64 connections (saturation)', route: 'chat', stream: false, rounds: true },
  r1000: { title: 'Open loop, 1,000 req/s (paced)', route: 'chat', stream: false, rounds: true },
  r5000: { title: 'Open loop, 5,000 req/s (paced)', route: 'chat', stream: false, rounds: true },
  stream: { title: 'Streaming throughput: 16 concurrent 20-chunk SSE streams, each sent by the upstream in one burst', route: 'chat', stream: true, rounds: true },
  'slow-stream': {
    title: 'Streaming TTFB: 16 concurrent paced streams (20 chunks, 25 ms apart, started 30 ms apart), first content byte and no whole-stream buffering',
    route: 'slow',
    stream: true,
    rounds: true,
  },
  failover: { title: 'Failover: the primary answers 503 to 30 % of calls, then the secondary serves', route: 'failover', stream: false, rounds: true },
};

export const STREAM_CONCURRENCY = 16;
export const FAILOVER_CONCURRENCY = 4;
export const SLOW_CONCURRENCY = 16;
/**
 * The slow streams start this far apart (16 × 30 ms ≈ one 480 ms stream). Started together, the
 * 16 fixed-length streams stay in lockstep: each round of 16 arrives as one burst, and a stream's
 * "first byte" is mostly its place in that queue, which moved the sidecar/floor ratio between
 * 1.08 and 1.64 across six runs of the same code. The burst case stays in the `stream` scenario.
 */
export const SLOW_STAGGER_MS = 30;

export function requestBody(model: string, stream: boolean): string {
  return JSON.stringify({
    model,
    messages: [
      { role: 'system', content: 'You are a terse assistant.' },
      { role: 'user', content: 'Say hello in one short sentence.' },
    ],
    max_tokens: 64,
    temperature: 0.2,
    ...(stream ? { stream: true } : {}),
  });
}

export type CellResult = (LoadResult | StreamResult | FailoverResult) & {
  /** The proxy's CPU time per request answered (ok + errors), in µs; null for direct. */
  cpuUsPerReq: number | null;
  /** The upstream fake's and the load generator's CPU per request, µs: how much of the 2 cores they took. */
  upstreamCpuUsPerReq: number | null;
  loadgenCpuUsPerReq: number;
};

export interface CellOptions {
  seconds: number;
  warmupSeconds: number;
  upstreamPid: number;
}

export async function runCell(target: Target, scenario: ScenarioName, o: CellOptions): Promise<CellResult | null> {
  const info = SCENARIOS[scenario];
  const ep = target.endpoint(info.route);
  if (!ep) return null;
  const req: RequestSpec = { url: ep.url, headers: ep.headers, body: requestBody(ep.model, info.stream) };
  let cpu0: number | null = null;
  let cpu1: number | null = null;
  let up0: number | null = null;
  let up1: number | null = null;
  let lg0 = process.cpuUsage();
  let lg1 = lg0;
  const hooks = {
    onMeasureStart: () => {
      cpu0 = target.pid ? treeCpuSeconds(target.pid) : null;
      up0 = treeCpuSeconds(o.upstreamPid);
      lg0 = process.cpuUsage();
    },
    onMeasureEnd: () => {
      cpu1 = target.pid ? treeCpuSeconds(target.pid) : null;
      up1 = treeCpuSeconds(o.upstreamPid);
      lg1 = process.cpuUsage(lg0);
    },
  };
  const seconds = o.seconds;
  const warmupSeconds = o.warmupSeconds;
  let r: LoadResult | StreamResult | FailoverResult;
  switch (scenario) {
    case 'c1':
      r = await closedLoop(req, { connections: 1, seconds, warmupSeconds, maxRequests: Math.ceil(20_000 * seconds), ...hooks });
      break;
    case 'c64':
      r = await closedLoop(req, { connections: 64, seconds, warmupSeconds, maxRequests: Math.ceil(100_000 * seconds), ...hooks });
      break;
    case 'r1000':
    case 'r5000':
      r = await paced(req, { rate: scenario === 'r1000' ? 1000 : 5000, seconds, warmupSeconds, ...hooks });
      break;
    case 'stream':
      r = await streamLoad(req, { concurrency: STREAM_CONCURRENCY, seconds, warmupSeconds, maxRequests: Math.ceil(20_000 * seconds), ...hooks });
      break;
    case 'slow-stream':
      // Each stream lasts about 0.5 s: at least 3 s, so that every round sees about a hundred.
      r = await streamLoad(req, { concurrency: SLOW_CONCURRENCY, seconds: Math.max(seconds < 1 ? 1 : 3, seconds), maxRequests: 4000, staggerMs: SLOW_STAGGER_MS, ...hooks });
      break;
    case 'failover':
      r = await failoverLoad(req, { concurrency: FAILOVER_CONCURRENCY, seconds, warmupSeconds, maxRequests: Math.ceil(20_000 * seconds), ...hooks });
      break;
  }
  const n = Math.max(1, r.ok + r.errors);
  const per = (a: number | null, b: number | null): number | null => (a !== null && b !== null ? ((b - a) * 1e6) / n : null);
  return {
    ...r,
    cpuUsPerReq: per(cpu0, cpu1),
    upstreamCpuUsPerReq: per(up0, up1),
    loadgenCpuUsPerReq: (lg1.user + lg1.system) / n,
  };
}
