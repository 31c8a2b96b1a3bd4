import { createLogger } from '../../common/log.ts';
import { Metrics } from './metrics.ts';
import { MetricsLogObserver } from './request-observer.ts';
import { routeWith } from './testing/route.ts';

const route = routeWith(['{name: a, provider: openai, model: m}', '{name: b, provider: anthropic, model: m, priority: 1}']);
const [a, b] = route.targets as [(typeof route.targets)[0], (typeof route.targets)[0]];
const progress = { attempts: [{ target: 'a', class: 'server-error' as const, status: 500 }], fallbacks: 1 };

function setup() {
  const metrics = new Metrics(false);
  const lines: Array<Record<string, unknown>> = [];
  const log = createLogger('debug', (l) => lines.push(JSON.parse(l) as Record<string, unknown>));
  const observer = new MetricsLogObserver(metrics, log);
  /** The values of one metric, as "label=value,... value" lines. */
  const values = async (name: string): Promise<string[]> => {
    const m = (await metrics.registry.getSingleMetric(name)!.get()) as { values: Array<{ labels: Record<string, unknown>; value: number; metricName?: string }> };
    return m.values
      .filter((v) => v.metricName === undefined || v.metricName.endsWith('_count') || !/_(bucket|sum)$/.test(v.metricName))
      .filter((v) => v.value !== 0)
      .map((v) => `${Object.entries(v.labels).map(([k, x]) => `${k}=${String(x)}`).join(',')} ${v.value}`);
  };
  const logged = () => lines.map(({ time: _t, level, component: _c, ...rest }) => ({ level, ...rest }));
  return { metrics, observer, values, logged, log };
}

describe('MetricsLogObserver: the metrics and log lines of each event', () => {
  it('attemptFinished: an attempt by outcome; a failed one is logged (info)', async () => {
    const { observer, values, logged } = setup();
    observer.attemptFinished(route, a, 'ok');
    observer.attemptFinished(route, a, 'server-error', { errorClass: 'server-error', status: 503, message: 'down' });
    expect(await values('llmroute_upstream_attempts_total')).toEqual(['route=r,target=a,outcome=ok 1', 'route=r,target=a,outcome=server-error 1']);
    expect(logged()).toEqual([{ level: 'info', msg: 'upstream attempt failed', route: 'r', target: 'a', class: 'server-error', status: 503, error: 'down' }]);
  });

  it('fellBack, cooledDown, circuitChanged', async () => {
    const { observer, values, logged } = setup();
    observer.fellBack(route, a, b, 'rate-limit');
    observer.cooledDown(route, a, 2000);
    observer.circuitChanged(a, 'open');
    expect(await values('llmroute_fallbacks_total')).toEqual(['route=r,from=a,to=b,reason=rate-limit 1']);
    expect(await values('llmroute_cooldowns_total')).toEqual(['route=r,target=a 1']);
    expect(await values('llmroute_circuit_state')).toEqual(['route=r,target=a 2']);
    expect(logged()).toEqual([
      { level: 'info', msg: 'falling back', route: 'r', from: 'a', to: 'b', reason: 'rate-limit' },
      { level: 'info', msg: 'target cooling down after a rate limit', route: 'r', target: 'a', ms: 2000 },
      { level: 'warn', msg: 'circuit state changed', route: 'r', target: 'a', state: 'open' },
    ]);
  });

  it('refused, failed and clientClosed count requests served by no target', async () => {
    const { observer, values, logged } = setup();
    observer.refused('', 400);
    observer.failed(route, progress, 502, new Error('every target failed'), performance.now());
    observer.clientClosed(route, progress);
    expect(await values('llmroute_requests_total')).toEqual(['route=,target=,status=400,api=chat 1', 'route=r,target=,status=502,api=chat 1', 'route=r,target=,status=499,api=chat 1']);
    expect(await values('llmroute_request_duration_seconds')).toEqual(['route=r,target=,api=chat 1']);
    expect(logged()).toEqual([
      { level: 'warn', msg: 'request failed', route: 'r', status: 502, attempts: progress.attempts, fallbacks: 1, error: 'every target failed' },
      { level: 'info', msg: 'client closed the request before an answer', route: 'r', attempts: 1 },
    ]);
  });

  it('served: tokens, the request, its duration, and a debug line', async () => {
    const { observer, values, logged } = setup();
    observer.served(route, a, progress, { prompt: 3, completion: 5 }, performance.now());
    expect(await values('llmroute_tokens_total')).toEqual(['route=r,target=a,kind=prompt 3', 'route=r,target=a,kind=completion 5']);
    expect(await values('llmroute_requests_total')).toEqual(['route=r,target=a,status=200,api=chat 1']);
    expect(await values('llmroute_request_duration_seconds')).toEqual(['route=r,target=a,api=chat 1']);
    expect(logged()).toEqual([{ level: 'debug', msg: 'request served', route: 'r', target: 'a', attempts: 1, fallbacks: 1 }]);
  });

  it('a stream: time to first token, a break after the commit, and its end (499 when the client left)', async () => {
    const { observer, values, logged } = setup();
    const started = performance.now();
    const progress = { attempts: [], fallbacks: 0, api: 'messages' as const };
    observer.streamCommitted(route, a, progress, started + 250, started);
    observer.streamBroke(route, a, { errorClass: 'connection-error', message: 'the provider ended the stream early' });
    observer.streamEnded(route, a, progress, { prompt: 1, completion: 0 }, false, started);
    observer.streamEnded(route, a, progress, undefined, true, started);
    expect(await values('llmroute_time_to_first_token_seconds')).toEqual(['route=r,target=a,api=messages 1']);
    expect(await values('llmroute_stream_errors_total')).toEqual(['route=r,target=a,class=connection-error 1']);
    expect(await values('llmroute_tokens_total')).toEqual(['route=r,target=a,kind=prompt 1']);
    expect(await values('llmroute_requests_total')).toEqual(['route=r,target=a,status=200,api=messages 1', 'route=r,target=a,status=499,api=messages 1']);
    expect(logged()).toEqual([{ level: 'warn', msg: 'stream failed after it started', route: 'r', target: 'a', class: 'connection-error', error: 'the provider ended the stream early' }]);
  });

  it('the commit window: a try failed inside it counts by reason and is logged with it; a held commit observes the time held', async () => {
    const { observer, values, logged } = setup();
    observer.attemptFinished(route, a, 'timeout', { errorClass: 'timeout', status: null, message: 'slow', inWindow: 'slow-stream' });
    observer.attemptFinished(route, a, 'timeout', { errorClass: 'timeout', status: null, message: 'no window' });
    const started = performance.now();
    observer.streamCommitted(route, b, progress, started + 400, started, 300);
    observer.streamCommitted(route, b, progress, started + 100, started);
    expect(await values('llmroute_commit_window_fallbacks_total')).toEqual(['route=r,target=a,reason=slow-stream 1']);
    expect(await values('llmroute_commit_window_held_seconds')).toEqual(['route=r,target=b 1']);
    expect(await values('llmroute_time_to_first_token_seconds')).toEqual(['route=r,target=b,api=chat 2']);
    expect(logged()[0]).toEqual({ level: 'info', msg: 'upstream attempt failed', route: 'r', target: 'a', class: 'timeout', status: null, error: 'slow', commitWindow: 'slow-stream' });
  });

  it('unexpected: an error line with the message only', () => {
    const { observer, logged } = setup();
    observer.unexpected(new Error('bug'));
    observer.unexpected('thrown string');
    expect(logged()).toEqual([
      { level: 'error', msg: 'unexpected error while serving a request', error: 'bug' },
      { level: 'error', msg: 'unexpected error while serving a request', error: 'thrown string' },
    ]);
  });

  it('logs no failed attempt when info is off', () => {
    const { observer, logged, log } = setup();
    log.level = 'warn';
    observer.attemptFinished(route, a, 'timeout', { errorClass: 'timeout', status: null, message: 'slow' });
    expect(logged()).toEqual([]);
  });
});

describe('MetricsLogObserver: the retry budget and hedging (issue 13)', () => {
  it('retryBudgetExhausted, hedge and hedgeWasted', async () => {
    const { observer, values, logged } = setup();
    observer.retryBudgetExhausted(route, a);
    observer.retryBudgetExhausted(route, a);
    observer.hedge(route, b, 'started');
    observer.hedge(route, b, 'won');
    observer.hedge(route, undefined, 'denied');
    observer.hedgeWasted(route, a, 120);
    observer.hedgeWasted(route, a, 0);
    observer.attemptFinished(route, a, 'hedged-out');
    expect(await values('llmroute_retry_budget_exhausted_total')).toEqual(['route=r 2']);
    expect(await values('llmroute_hedges_total')).toEqual(['route=r,target=b,outcome=started 1', 'route=r,target=b,outcome=won 1', 'route=r,target=,outcome=denied 1']);
    expect(await values('llmroute_hedge_wasted_tokens_total')).toEqual(['route=r,target=a 120']);
    expect(await values('llmroute_upstream_attempts_total')).toEqual(['route=r,target=a,outcome=hedged-out 1']);
    // Debug lines only: a hedge or a denied retry is routine, not news.
    expect(logged().every((l) => l.level === 'debug')).toBe(true);
  });
});
