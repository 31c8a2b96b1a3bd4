/**
 * Prompt-cache affinity, the pure part: the session key of a request as a
 * 32-bit hash (from a header, the body's user fields or the prompt's start)
 * and the rendezvous (highest random weight) score of a target for it. The
 * balancer orders a priority's healthy targets by that score, so one
 * session keeps going to one target while it is healthy, and when it is
 * not, only that target's sessions move (each to its own next best).
 *
 * The key is read from the body the client sent, whichever API it spoke:
 * Chat Completions and Responses `prompt_cache_key`, then `user`, then
 * `safety_identifier` (OpenAI's successor to `user`), Messages `metadata.user_id`; the prompt's start is Chat's `messages` (legacy
 * completions' `prompt`), Messages' `system` then `messages`, Responses'
 * `instructions` then `input`: the text of each, in order, up to
 * `prefixChars` characters (UTF-16 code units).
 */
import type { AffinityPolicy } from './config/runtime-config.ts';

export type AffinityOutcome = 'hit' | 'moved' | 'nokey';

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** FNV-1a (32 bits) over a string's UTF-16 code units, from `h`. */
export function hashChars(s: string, h = FNV_OFFSET, max = s.length): number {
  const n = Math.min(max, s.length);
  for (let i = 0; i < n; i++) h = Math.imul(h ^ s.charCodeAt(i), FNV_PRIME);
  return h >>> 0;
}

/** murmur3's finaliser: spreads every input bit over the output. */
function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/** A target's rendezvous score for a key: -weight / ln(u), u uniform in (0, 1) from the pair's hash (weighted rendezvous hashing). */
export function rendezvousScore(keyHash: number, targetHash: number, weight: number): number {
  const u = (mix32((keyHash ^ Math.imul(targetHash, 0x9e3779b1)) >>> 0) + 0.5) / 4294967296;
  return -weight / Math.log(u);
}

/** The request's session key as a hash, or undefined when it has none. */
export function affinityHash(policy: AffinityPolicy, body: Readonly<Record<string, unknown>>, headers: Readonly<Record<string, string | string[] | undefined>>): number | undefined {
  switch (policy.key) {
    case 'header': {
      const v = headers[policy.header];
      const s = Array.isArray(v) ? v[0] : v;
      return s ? hashChars(s) : undefined;
    }
    case 'user': {
      const s = str(body['prompt_cache_key']) ?? str(body['user']) ?? str(body['safety_identifier']) ?? str((body['metadata'] as { user_id?: unknown } | undefined)?.user_id);
      return s ? hashChars(s) : undefined;
    }
    case 'promptPrefix':
      return promptPrefixHash(body, policy.prefixChars);
  }
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** Hashes text pieces until `left` characters are taken. */
class PrefixHasher {
  h = FNV_OFFSET;
  left: number;
  constructor(max: number) {
    this.left = max;
  }
  text(s: string): void {
    if (this.left <= 0 || s === '') return;
    this.h = hashChars(s, this.h, this.left);
    this.left -= Math.min(s.length, this.left);
    // A boundary, so that ["ab", "c"] and ["a", "bc"] differ.
    this.h = Math.imul(this.h ^ 0x1f, FNV_PRIME) >>> 0;
  }
  /** A content value: a string, or a list of parts with `text` (Chat, Messages, Responses). */
  content(c: unknown): void {
    if (typeof c === 'string') return this.text(c);
    if (!Array.isArray(c)) return;
    for (const part of c) {
      if (this.left <= 0) return;
      if (typeof part === 'string') this.text(part);
      else if (part && typeof part === 'object') {
        const t = (part as { text?: unknown }).text;
        if (typeof t === 'string') this.text(t);
      }
    }
  }
  messages(ms: unknown): void {
    if (typeof ms === 'string') return this.text(ms);
    if (!Array.isArray(ms)) return;
    for (const m of ms) {
      if (this.left <= 0) return;
      if (typeof m === 'string') this.text(m);
      else if (m && typeof m === 'object') this.content((m as { content?: unknown }).content);
    }
  }
}

/** The hash of the prompt's first `max` characters, or undefined when the prompt has no text. */
export function promptPrefixHash(body: Readonly<Record<string, unknown>>, max: number): number | undefined {
  const p = new PrefixHasher(max);
  if (body['instructions'] !== undefined || body['input'] !== undefined) {
    // Responses
    if (typeof body['instructions'] === 'string') p.text(body['instructions']);
    p.messages(body['input']);
  } else {
    // Messages' system (a string or text blocks); Chat's system is a message like the others.
    p.content(body['system']);
    if (body['messages'] !== undefined) p.messages(body['messages']);
    else if (typeof body['prompt'] === 'string' || Array.isArray(body['prompt'])) p.messages(body['prompt']);
  }
  return p.left < max ? p.h : undefined;
}
