/**
 * Rate-limit-aware picking, the pure part: from the rate-limit headers of a
 * target's answer, whether the target is near its provider's limit and until
 * when (the limit's reset). The failover loop stores the answer on the
 * target's health (TargetHealth.nearLimitUntil) and the balancer moves a
 * target near its limit behind its peers of the same priority until then.
 *
 * The headers, as the providers document them:
 * - OpenAI and Azure OpenAI: `x-ratelimit-{limit,remaining,reset}-{requests,tokens}`; the resets
 *   are durations in Go's notation (`1s`, `6m0s`, `20ms`, `1h2m3.5s`). Azure sends the remaining
 *   counts, often without limit or reset.
 * - Anthropic: `anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-{limit,remaining,reset}`;
 *   the resets are RFC 3339 times.
 *
 * Near the limit: remaining at or below `minRemainingShare` of the limit, for any of the counts;
 * without a limit header, when nothing remains. The remaining count is read less the tries in
 * flight to the target: the provider counted the answer's own request when it came in, a
 * response time ago, and the requests sent since will count against what remains (at 40
 * requests/s and 150 ms an answer, 6 of them), so a target is moved back one response time
 * before its limit rather than as it hits it. Until the latest reset of the counts that are near,
 * at most MAX_SHIFT_MS ahead (a daily limit's reset is hours away: the next answer after a minute
 * says again); a count near its limit with no reset header shifts for NO_RESET_SHIFT_MS.
 */
import type { RateLimitPolicy } from './config/runtime-config.ts';

/** The longest a target is moved back on one answer's headers. */
export const MAX_SHIFT_MS = 60_000;
/** How long a count near its limit moves the target back when no reset header says. */
export const NO_RESET_SHIFT_MS = 1_000;

type Headers = Readonly<Record<string, string>>;

const OPENAI = [
  ['x-ratelimit-remaining-requests', 'x-ratelimit-limit-requests', 'x-ratelimit-reset-requests'],
  ['x-ratelimit-remaining-tokens', 'x-ratelimit-limit-tokens', 'x-ratelimit-reset-tokens'],
] as const;
const ANTHROPIC = [
  ['anthropic-ratelimit-requests-remaining', 'anthropic-ratelimit-requests-limit', 'anthropic-ratelimit-requests-reset'],
  ['anthropic-ratelimit-tokens-remaining', 'anthropic-ratelimit-tokens-limit', 'anthropic-ratelimit-tokens-reset'],
  ['anthropic-ratelimit-input-tokens-remaining', 'anthropic-ratelimit-input-tokens-limit', 'anthropic-ratelimit-input-tokens-reset'],
  ['anthropic-ratelimit-output-tokens-remaining', 'anthropic-ratelimit-output-tokens-limit', 'anthropic-ratelimit-output-tokens-reset'],
] as const;

/**
 * Until when the target is near its limit (ms since epoch), or 0 when it is not or the answer
 * carries no rate-limit header. `headers` are the passed-through ones (passthrough-headers.ts).
 */
export function nearLimitUntil(headers: Headers, policy: RateLimitPolicy, now: number, inflight = 0): number {
  let until = 0;
  // Two lookups decide for the answers without these headers: the cost of the feature for them.
  if (headers['x-ratelimit-remaining-requests'] !== undefined || headers['x-ratelimit-remaining-tokens'] !== undefined) {
    for (const [remaining, limit, reset] of OPENAI) until = Math.max(until, countUntil(headers, remaining, limit, reset, policy, now, inflight, parseGoDurationMs));
  }
  if (headers['anthropic-ratelimit-requests-remaining'] !== undefined || headers['anthropic-ratelimit-tokens-remaining'] !== undefined || headers['anthropic-ratelimit-input-tokens-remaining'] !== undefined) {
    for (const [remaining, limit, reset] of ANTHROPIC) until = Math.max(until, countUntil(headers, remaining, limit, reset, policy, now, inflight, (v) => rfc3339InMs(v, now)));
  }
  return until;
}

function countUntil(h: Headers, remainingName: string, limitName: string, resetName: string, policy: RateLimitPolicy, now: number, inflight: number, resetMs: (v: string) => number): number {
  const rv = h[remainingName];
  if (rv === undefined) return 0;
  const reported = Number(rv);
  if (!Number.isFinite(reported)) return 0;
  // Tokens: each try in flight counts as one request, not as its tokens (unknown here).
  const remaining = remainingName.endsWith('requests') || remainingName.endsWith('requests-remaining') ? reported - inflight : reported;
  const lv = h[limitName];
  const limit = lv === undefined ? Number.NaN : Number(lv);
  const near = Number.isFinite(limit) && limit > 0 ? remaining <= limit * policy.minRemainingShare : remaining <= 0;
  if (!near) return 0;
  const rs = h[resetName];
  const ms = rs === undefined ? Number.NaN : resetMs(rs);
  if (!Number.isFinite(ms) || ms < 0) return now + NO_RESET_SHIFT_MS;
  return now + Math.min(Math.max(ms, 1), MAX_SHIFT_MS);
}

const GO_UNIT_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, 'µs': 0.001, ns: 0.000001 };
const GO_DURATION = /^(?:[0-9]+(?:\.[0-9]*)?(?:h|ms|m|s|us|µs|ns))+$/;
const GO_PART = /([0-9]+(?:\.[0-9]*)?)(h|ms|m|s|us|µs|ns)/g;

/** Milliseconds of a Go duration (`1s`, `6m0s`, `20ms`, `1h2m3.5s`); a bare number is seconds. NaN when it is neither. */
export function parseGoDurationMs(text: string): number {
  const t = text.trim();
  if (/^[0-9]+(\.[0-9]+)?$/.test(t)) return Number(t) * 1000;
  if (!GO_DURATION.test(t)) return Number.NaN;
  let ms = 0;
  for (const m of t.matchAll(GO_PART)) ms += Number(m[1]) * GO_UNIT_MS[m[2]!]!;
  return ms;
}

/** Milliseconds from `now` to an RFC 3339 time (`2026-12-01T16:04:05Z`); NaN when it is not one. */
export function rfc3339InMs(text: string, now: number): number {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i.test(text.trim())) return Number.NaN;
  const t = Date.parse(text);
  return Number.isFinite(t) ? t - now : Number.NaN;
}
