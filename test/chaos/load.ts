/**
 * An open-loop load generator for the outage and soak suites: issues
 * requests at a fixed rate (not "as fast as answers come back", so a slow
 * sidecar shows up as latency, not as a lower rate), mixed stream and
 * non-stream, each carrying its own id (`req-<id>` as the message), and
 * classifies every answer: ok, an HTTP error, a stream that ended with an
 * error event, a broken connection, or lost (no answer in time). Checks
 * every body for duplicated or corrupted content.
 */
import { Pool } from 'undici';
import { completionContent, errorBody, readStream } from './harness.ts';
import type { RecordedRequest } from '../fakes/fake-provider.ts';

export type OutcomeKind = 'ok' | 'http-error' | 'stream-error' | 'network-error' | 'lost' | 'duplicated' | 'corrupt';

export interface Outcome {
  id: number;
  stream: boolean;
  /** ms since the run began (performance.now based). */
  at: number;
  ms: number;
  kind: OutcomeKind;
  status: number;
  target: string | undefined;
  attempts: number;
  fallbacks: number;
  /** error.type / error.code of an HTTP error or a stream error event; network error code. */
  detail: string | undefined;
}

export interface LoadSpec {
  /** http://127.0.0.1:PORT of the sidecar's API. */
  origin: string;
  rate: number;
  durationMs: number;
  /** Requests in flight at most; beyond it a due request is skipped and counted. */
  maxInFlight: number;
  streamShare: number;
  model: string | ((id: number) => string);
  /** Client-side limit per request, well past the route's total deadline; beyond it the request is lost. */
  timeoutMs: number;
  /** The text each target answers with, to check bodies for duplication or corruption. */
  expectedText: (target: string | undefined) => string | undefined;
  connections?: number;
  firstId?: number;
  /** Stops issuing new requests (those in flight are still awaited). */
  stop?: AbortSignal;
  /** Called with each outcome as it lands. */
  onOutcome?: (o: Outcome) => void;
  /** Keep ok outcomes in the result (default true); long runs keep only the others and count the rest. */
  keepOk?: boolean;
  /**
   * The clock origin of each outcome's `at` (performance.now() units; default: when the load
   * starts; the rate's schedule always starts then). A test that times events of its own (an
   * outage) passes its origin, so both are read on one clock.
   */
  t0?: number;
}

export interface LoadResult {
  /** Every outcome, or only those that are not ok when keepOk is false. */
  outcomes: Outcome[];
  answered: number;
  issued: number;
  skipped: number;
  nextId: number;
  elapsedMs: number;
}

/** The id a request carries (`req-<id>` in its first message), from a fake's record: OpenAI or Anthropic shape. */
export function requestIdOf(rec: Pick<RecordedRequest, 'body'>): number | undefined {
  const m = rec.body?.messages?.[0];
  let text: unknown = m?.content;
  if (Array.isArray(text)) text = text.find((p: any) => p?.type === 'text')?.text;
  if (typeof text !== 'string') return undefined;
  const hit = /^req-(\d+)$/.exec(text);
  return hit ? Number(hit[1]) : undefined;
}

export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const pool = new Pool(spec.origin, { connections: spec.connections ?? 64, pipelining: 1, keepAliveTimeout: 10_000 });
  const outcomes: Outcome[] = [];
  let id = spec.firstId ?? 0;
  let issued = 0;
  let skipped = 0;
  let inFlight = 0;
  let answered = 0;
  const keepOk = spec.keepOk ?? true;
  const land = (o: Outcome): void => {
    answered++;
    if (keepOk || o.kind !== 'ok') outcomes.push(o);
    spec.onOutcome?.(o);
  };
  const pending = new Set<Promise<void>>();
  const t0 = performance.now();
  const origin = spec.t0 ?? t0;

  const one = async (n: number, stream: boolean): Promise<void> => {
    const model = typeof spec.model === 'function' ? spec.model(n) : spec.model;
    const started = performance.now();
    const signal = AbortSignal.timeout(spec.timeoutMs);
    const o: Outcome = { id: n, stream, at: started - origin, ms: 0, kind: 'ok', status: 0, target: undefined, attempts: 0, fallbacks: 0, detail: undefined };
    let text = '';
    try {
      const res = await pool.request({
        path: '/v1/chat/completions',
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model, stream, messages: [{ role: 'user', content: `req-${n}` }] }),
        signal,
      });
      o.status = res.statusCode;
      const h = res.headers;
      o.target = h['x-llmroute-target'] as string | undefined;
      o.attempts = Number(h['x-llmroute-attempts'] ?? 0);
      o.fallbacks = Number(h['x-llmroute-fallbacks'] ?? 0);
      text = await res.body.text();
    } catch (err) {
      o.ms = performance.now() - started;
      o.kind = signal.aborted ? 'lost' : 'network-error';
      o.detail = signal.aborted ? 'client-timeout' : ((err as { code?: string }).code ?? (err as Error).message);
      land(o);
      return;
    }
    o.ms = performance.now() - started;
    if (o.status !== 200) {
      const e = errorBody(text);
      o.kind = 'http-error';
      o.detail = e ? `${e.type}/${String(e.code)}` : `unshaped:${text.slice(0, 80)}`;
    } else if (stream) {
      const v = readStream(text);
      const want = spec.expectedText(o.target);
      if (v.error) {
        o.kind = v.done > 0 || v.afterError > 0 ? 'corrupt' : 'stream-error';
        o.detail = `${String(v.error.type)}/${String(v.error.code)}`;
        // what arrived before the error must be a prefix of the one answer, never two answers
        if (want !== undefined && !want.startsWith(v.content)) o.kind = 'duplicated';
      } else if (v.done !== 1 || v.unreadable > 0) {
        o.kind = 'corrupt';
        o.detail = `done=${v.done} unreadable=${v.unreadable}`;
      } else if (want !== undefined && v.content !== want) {
        o.kind = v.content.length > want.length ? 'duplicated' : 'corrupt';
        o.detail = v.content.slice(0, 120);
      }
    } else {
      const c = completionContent(text);
      const want = spec.expectedText(o.target);
      if (c === undefined) {
        o.kind = 'corrupt';
        o.detail = text.slice(0, 120);
      } else if (want !== undefined && c !== want) {
        o.kind = c.length > want.length ? 'duplicated' : 'corrupt';
        o.detail = c.slice(0, 120);
      }
    }
    land(o);
  };

  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const elapsed = performance.now() - t0;
      const stop = elapsed >= spec.durationMs || spec.stop?.aborted === true;
      if (!stop) {
        const due = Math.floor((elapsed * spec.rate) / 1000) - issued - skipped;
        for (let k = 0; k < due; k++) {
          if (inFlight >= spec.maxInFlight) {
            skipped++;
            continue;
          }
          const n = id++;
          issued++;
          inFlight++;
          const p = one(n, Math.random() < spec.streamShare).finally(() => {
            inFlight--;
            pending.delete(p);
          });
          pending.add(p);
        }
        setTimeout(tick, 2);
        return;
      }
      resolve();
    };
    tick();
  });
  while (pending.size > 0) await Promise.all([...pending]);
  const elapsedMs = performance.now() - t0;
  await pool.close();
  return { outcomes, answered, issued, skipped, nextId: id, elapsedMs };
}

/** Counts outcomes by kind. */
export function tally(outcomes: Outcome[]): Record<OutcomeKind, number> {
  const t: Record<OutcomeKind, number> = { ok: 0, 'http-error': 0, 'stream-error': 0, 'network-error': 0, lost: 0, duplicated: 0, corrupt: 0 };
  for (const o of outcomes) t[o.kind]++;
  return t;
}
