/**
 * The Prometheus metrics of SPEC section 6, on a registry of our own. Label
 * values are route, target and class names from the config, never keys.
 * Children are cached per label set so the hot path does no label lookup,
 * and the hot counters are tallied here and handed to prom-client when a
 * scrape reads them (its collect hook): a request pays additions, not
 * prom-client's label hashing.
 */
// prom-client's modules one by one, not its index (see lean-imports.d.ts).
import Counter from 'prom-client/lib/counter.js';
import Gauge from 'prom-client/lib/gauge.js';
import Histogram from 'prom-client/lib/histogram.js';
import Registry from 'prom-client/lib/registry.js';
import type { CircuitState } from './breaker.ts';
import { CIRCUIT_STATE_VALUE } from './breaker.ts';
import { registerProcessMetrics } from './process-metrics.ts';
import type { ApiName } from './surfaces/types.ts';

const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
const TTFT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30];
const HELD_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30];
const MAX_SERIES = 10_000;

interface Tally {
  labels: Record<string, string>;
  pending: number;
}

/**
 * Counts of one counter by (route, target, third label[, api]), added to the counter when it is
 * read. A counter with an `api` label keys its third level by value and api together.
 */
class Tallies {
  private readonly counter: Counter<string>;
  private readonly third: string;
  private readonly withApi: boolean;
  private readonly byRoute = new Map<string, Map<string, Map<string | number, Tally>>>();
  private readonly all: Tally[] = [];

  constructor(counter: Counter<string>, third: string, withApi = false) {
    this.counter = counter;
    this.third = third;
    this.withApi = withApi;
  }

  add(route: string, target: string, value: string | number, n: number, api?: ApiName): void {
    const key = this.withApi && api !== undefined && api !== 'chat' ? `${value}\0${api}` : value;
    let t = this.byRoute.get(route)?.get(target)?.get(key);
    if (t === undefined) t = this.create(route, target, value, key, api ?? 'chat');
    t.pending += n;
  }

  /** Hands the counts to prom-client (called by the counter's collect hook, before every read). */
  flush(): void {
    for (const t of this.all) {
      if (t.pending > 0) {
        this.counter.inc(t.labels, t.pending);
        t.pending = 0;
      }
    }
  }

  private create(route: string, target: string, value: string | number, key: string | number, api: ApiName): Tally {
    if (this.all.length >= MAX_SERIES) {
      this.flush();
      this.byRoute.clear();
      this.all.length = 0;
    }
    let byTarget = this.byRoute.get(route);
    if (!byTarget) this.byRoute.set(route, (byTarget = new Map()));
    let byValue = byTarget.get(target);
    if (!byValue) byTarget.set(target, (byValue = new Map()));
    const labels: Record<string, string> = { route, target, [this.third]: String(value) };
    if (this.withApi) labels.api = api;
    const t: Tally = { labels, pending: 0 };
    byValue.set(key, t);
    this.all.push(t);
    return t;
  }
}

export class Metrics {
  readonly registry = new Registry();
  readonly requests: Counter<string> = new Counter({ name: 'llmroute_requests_total', help: 'Client requests, by the target that served them (none when no target did), the status sent and the API the client spoke (chat, responses, messages).', labelNames: ['route', 'target', 'status', 'api'], registers: [this.registry], collect: (): void => this.requestTallies.flush() });
  readonly attempts: Counter<string> = new Counter({ name: 'llmroute_upstream_attempts_total', help: 'Upstream tries, by outcome: ok or an error class.', labelNames: ['route', 'target', 'outcome'], registers: [this.registry], collect: (): void => this.attemptTallies.flush() });
  readonly fallbacks = new Counter({ name: 'llmroute_fallbacks_total', help: 'Moves from one target to the next, by the error class that caused them.', labelNames: ['route', 'from', 'to', 'reason'], registers: [this.registry] });
  readonly duration = new Histogram({ name: 'llmroute_request_duration_seconds', help: 'Whole client requests, by the target that served them and the API the client spoke.', labelNames: ['route', 'target', 'api'], buckets: DURATION_BUCKETS, registers: [this.registry] });
  readonly ttft = new Histogram({ name: 'llmroute_time_to_first_token_seconds', help: 'Streams: time from the request to the first content chunk sent to the client, by the API the client spoke.', labelNames: ['route', 'target', 'api'], buckets: TTFT_BUCKETS, registers: [this.registry] });
  readonly tokens: Counter<string> = new Counter({ name: 'llmroute_tokens_total', help: 'Tokens the providers reported, by kind: prompt or completion.', labelNames: ['route', 'target', 'kind'], registers: [this.registry], collect: (): void => this.tokenTallies.flush() });
  readonly circuit = new Gauge({ name: 'llmroute_circuit_state', help: 'Circuit state per target: 0 closed, 1 half-open, 2 open.', labelNames: ['route', 'target'], registers: [this.registry] });
  readonly reloads = new Counter({ name: 'llmroute_config_reloads_total', help: 'Config loads, by result: ok or error.', labelNames: ['result'], registers: [this.registry] });
  /** Client requests being served now, as the API server counts them: read by a scrape, not kept twice. */
  private inflightCount: () => number = () => 0;
  readonly inflight = new Gauge({ name: 'llmroute_inflight_requests', help: 'Client requests being served now.', registers: [this.registry], collect: (): void => this.inflight.set(this.inflightCount()) });
  private storeBytes: () => number = () => 0;
  readonly responseStoreBytes = new Gauge({ name: 'llmroute_response_store_bytes', help: "Bytes held by the routes' stores of served Responses API answers (previous_response_id across a failover); bounded by each route's responseStore.maxBytes.", registers: [this.registry], collect: (): void => this.responseStoreBytes.set(this.storeBytes()) });
  readonly streamErrors = new Counter({ name: 'llmroute_stream_errors_total', help: 'Streams that broke after the commit point (the client got an error event), by error class.', labelNames: ['route', 'target', 'class'], registers: [this.registry] });
  readonly skips = new Counter({ name: 'llmroute_skipped_targets_total', help: 'Targets passed over without a try, by reason: unsupported (the target cannot serve the request, e.g. a feature its API lacks).', labelNames: ['route', 'target', 'reason'], registers: [this.registry] });
  readonly commitWindowFallbacks = new Counter({ name: 'llmroute_commit_window_fallbacks_total', help: "Tries that failed inside their route's commit window (after their first content, before the commit), by reason: stall (idle), slow-stream (below minTokensPerSecond) or the error class. Without the window each was a broken stream for the client; with it the request went on invisibly (a retry, a fallback, or an error before any byte).", labelNames: ['route', 'target', 'reason'], registers: [this.registry] });
  readonly commitWindowHeld = new Histogram({ name: 'llmroute_commit_window_held_seconds', help: "Streams of routes with a commit window: how long their first content was held before the commit (what the window adds to the time to first token).", labelNames: ['route', 'target'], buckets: HELD_BUCKETS, registers: [this.registry] });
  readonly budgetExhausted = new Counter({ name: 'llmroute_retry_budget_exhausted_total', help: "Retries not made because the route's retry budget (retries and fallbacks as a share of its requests) was spent; the request moved on to its next target at once.", labelNames: ['route'], registers: [this.registry] });
  readonly hedges = new Counter({ name: 'llmroute_hedges_total', help: 'Hedges of hedged requests, by outcome: started (on target), won (its try committed first), lost (aborted: another try decided the request), denied (one was due, the hedge budget was spent; target empty).', labelNames: ['route', 'target', 'outcome'], registers: [this.registry] });
  readonly hedgeWastedTokens = new Counter({ name: 'llmroute_hedge_wasted_tokens_total', help: "Tokens of tries aborted because another try of their hedged request decided it: the request body's prompt estimate (bytes / 4, images at a fixed cost); completion tokens generated before the abort are not seen, so this is a lower bound.", labelNames: ['route', 'target'], registers: [this.registry] });
  readonly cooldowns = new Counter({ name: 'llmroute_cooldowns_total', help: 'Times a target was cooled down after a 429.', labelNames: ['route', 'target'], registers: [this.registry] });
  readonly rateLimitShifts = new Counter({ name: 'llmroute_ratelimit_shifts_total', help: "Times a target's rate-limit headers said it was near its limit, moving it behind its peers of the same priority until the reset.", labelNames: ['route', 'target'], registers: [this.registry] });
  readonly outlierEjections = new Counter({ name: 'llmroute_outlier_ejections_total', help: "balancing: least-latency: times a target was ejected for a latency far above its peers'.", labelNames: ['route', 'target'], registers: [this.registry] });
  readonly affinityRequests = new Counter({ name: 'llmroute_affinity_requests_total', help: "Requests of routes with affinity, by outcome: hit (the session's own target first), moved (it was out: health wins), nokey (no session key: balanced as usual).", labelNames: ['route', 'outcome'], registers: [this.registry] });
  /** The least-latency averages, read from target health by a scrape (latencyWith). */
  private latencies: () => Iterable<[route: string, target: string, kind: string, seconds: number]> = () => [];
  readonly latencyEwma: Gauge<string> = new Gauge({
    name: 'llmroute_target_latency_ewma_seconds',
    help: "balancing: least-latency: each target's time-decayed average latency, by kind: stream (time to first content) or whole (a whole answer's time).",
    labelNames: ['route', 'target', 'kind'],
    registers: [this.registry],
    collect: (): void => {
      this.latencyEwma.reset();
      for (const [route, target, kind, seconds] of this.latencies()) this.latencyEwma.labels(route, target, kind).set(seconds);
    },
  });

  private readonly cache = new Map<string, unknown>();
  private readonly requestTallies = new Tallies(this.requests, 'status', true);
  private readonly attemptTallies = new Tallies(this.attempts, 'outcome');
  private readonly tokenTallies = new Tallies(this.tokens, 'kind');
  private readonly circuitSeries = new Set<string>();
  private stopProcessMetrics: () => void = () => undefined;

  constructor(defaultMetrics = true) {
    if (defaultMetrics) this.stopProcessMetrics = registerProcessMetrics(this.registry);
    this.reloads.inc({ result: 'ok' }, 0);
    this.reloads.inc({ result: 'error' }, 0);
  }

  private child<T>(key: string, make: () => T): T {
    let c = this.cache.get(key) as T | undefined;
    if (c === undefined) {
      c = make();
      if (this.cache.size > MAX_SERIES) this.cache.clear();
      this.cache.set(key, c);
    }
    return c;
  }

  request(route: string, target: string, status: number, api: ApiName = 'chat'): void {
    this.requestTallies.add(route, target, status, 1, api);
  }

  attempt(route: string, target: string, outcome: string): void {
    this.attemptTallies.add(route, target, outcome, 1);
  }

  fallback(route: string, from: string, to: string, reason: string): void {
    this.fallbacks.labels(route, from, to, reason).inc();
  }

  observeDuration(route: string, target: string, seconds: number, api: ApiName = 'chat'): void {
    this.child(`d\0${api}\0${route}\0${target}`, () => this.duration.labels(route, target, api)).observe(seconds);
  }

  observeTtft(route: string, target: string, seconds: number, api: ApiName = 'chat'): void {
    this.child(`t\0${api}\0${route}\0${target}`, () => this.ttft.labels(route, target, api)).observe(seconds);
  }

  countTokens(route: string, target: string, prompt: number, completion: number): void {
    if (prompt > 0) this.tokenTallies.add(route, target, 'prompt', prompt);
    if (completion > 0) this.tokenTallies.add(route, target, 'completion', completion);
  }

  streamError(route: string, target: string, errorClass: string): void {
    this.streamErrors.labels(route, target, errorClass).inc();
  }

  commitWindowFallback(route: string, target: string, reason: string): void {
    this.commitWindowFallbacks.labels(route, target, reason).inc();
  }

  observeCommitHeld(route: string, target: string, seconds: number): void {
    this.child(`h\0${route}\0${target}`, () => this.commitWindowHeld.labels(route, target)).observe(seconds);
  }

  skip(route: string, target: string, reason: string): void {
    this.skips.labels(route, target, reason).inc();
  }

  retryBudgetExhausted(route: string): void {
    this.budgetExhausted.labels(route).inc();
  }

  hedge(route: string, target: string, outcome: string): void {
    this.hedges.labels(route, target, outcome).inc();
  }

  hedgeWasted(route: string, target: string, tokens: number): void {
    if (tokens > 0) this.hedgeWastedTokens.labels(route, target).inc(tokens);
  }

  cooldown(route: string, target: string): void {
    this.cooldowns.labels(route, target).inc();
  }

  rateLimitShift(route: string, target: string): void {
    this.rateLimitShifts.labels(route, target).inc();
  }

  outlierEjection(route: string, target: string): void {
    this.outlierEjections.labels(route, target).inc();
  }

  affinity(route: string, outcome: string): void {
    this.child(`a\0${route}\0${outcome}`, () => this.affinityRequests.labels(route, outcome)).inc();
  }

  /** Where llmroute_target_latency_ewma_seconds reads the averages (target health). */
  latencyWith(read: () => Iterable<[route: string, target: string, kind: string, seconds: number]>): void {
    this.latencies = read;
  }

  circuitState(route: string, target: string, state: CircuitState): void {
    this.circuitSeries.add(`${route}\0${target}`);
    this.circuit.labels(route, target).set(CIRCUIT_STATE_VALUE[state]);
  }

  /** Where llmroute_response_store_bytes reads its value (the response stores' own count). */
  countStoreBytesWith(count: () => number): void {
    this.storeBytes = count;
  }

  /** Where llmroute_inflight_requests reads its value (the API server's own count). */
  countInflightWith(count: () => number): void {
    this.inflightCount = count;
  }

  /** Stops the event-loop delay monitor of the process metrics (at shutdown, and in tests). */
  close(): void {
    this.stopProcessMetrics();
  }

  /** Drops the circuit series of targets that left the config. `live` holds route + NUL + target keys. */
  forgetTargets(live: Set<string>): void {
    for (const key of this.circuitSeries) {
      if (live.has(key)) continue;
      const sep = key.indexOf("\0");
      this.circuit.remove(key.slice(0, sep), key.slice(sep + 1));
      this.circuitSeries.delete(key);
    }
  }
}
