/**
 * Pieces shared by the fake providers' wire formats: ids, token estimates,
 * splitting a reply into stream chunks, tool-call arguments. Everything here
 * is cheap on purpose: the fakes also serve benchmarks.
 */
import { randomBytes } from 'node:crypto';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const HEX = '0123456789abcdef';

let pool = randomBytes(4096);
let poolAt = 0;

function nextByte(): number {
  if (poolAt >= pool.length) {
    pool = randomBytes(4096);
    poolAt = 0;
  }
  return pool[poolAt++] as number;
}

/** `len` random characters of [A-Za-z0-9]. */
export function randomAlnum(len: number): string {
  let s = '';
  for (let i = 0; i < len; i++) s += ALNUM[nextByte() % 62];
  return s;
}

/** `len` random lower-case hex digits. */
export function randomHex(len: number): string {
  let s = '';
  for (let i = 0; i < len; i++) s += HEX[nextByte() & 15];
  return s;
}

/** Seconds since the epoch, as in `created`. */
export function unixNow(): number {
  return Math.floor(Date.now() / 1000);
}

/** Words in a string: runs of non-whitespace. */
export function countWords(s: string): number {
  let n = 0;
  let inWord = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 32 || c === 10 || c === 9 || c === 13) inWord = false;
    else if (!inWord) {
      inWord = true;
      n++;
    }
  }
  return n;
}

/** Tokens an image is counted as (a rough, fixed figure). */
const IMAGE_TOKENS = 85;

/**
 * A rough token count of message content: words in every string under
 * `content`, `text`, `system`, `input` and tool-call `arguments`; a fixed
 * figure for each image part. At least 1.
 */
export function estimateTokens(value: unknown): number {
  return Math.max(1, countDeep(value, 0));
}

function countDeep(value: unknown, depth: number): number {
  if (typeof value === 'string') return countWords(value);
  if (depth > 8 || value === null || typeof value !== 'object') return 0;
  if (Array.isArray(value)) {
    let n = 0;
    for (const v of value) n += countDeep(v, depth + 1);
    return n;
  }
  const o = value as Record<string, unknown>;
  const type = o['type'];
  if (type === 'image_url' || type === 'image' || type === 'input_image') return IMAGE_TOKENS;
  let n = 0;
  for (const key of ['content', 'text', 'system', 'arguments', 'input', 'function']) {
    const v = o[key];
    if (v !== undefined) n += countDeep(v, depth + 1);
  }
  const calls = o['tool_calls'];
  if (Array.isArray(calls)) n += countDeep(calls, depth + 1);
  return n;
}

/** Splits a string into `n` non-empty pieces whose concatenation is the string (code points, never halves of a pair). */
function splitCodePoints(s: string, n: number): string[] {
  const cps = Array.from(s);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const from = Math.floor((i * cps.length) / n);
    const to = Math.floor(((i + 1) * cps.length) / n);
    out.push(cps.slice(from, to).join(''));
  }
  return out;
}

/**
 * Splits a reply into exactly `n` non-empty pieces: at word boundaries when
 * there are enough words (each piece keeps its leading space, like tokens),
 * else by characters. When the text is shorter than `n` characters it is
 * repeated (joined by spaces) until it is long enough, so `n` content chunks
 * are always sent.
 */
export function splitText(text: string, n: number): string[] {
  const count = Math.max(1, Math.floor(n));
  let t = text === '' ? ' ' : text;
  while (Array.from(t).length < count) t = t + ' ' + text;
  const words = t.match(/\s*\S+/g) ?? [t];
  if (words.length >= count) {
    const out: string[] = [];
    for (let i = 0; i < count; i++) {
      const from = Math.floor((i * words.length) / count);
      const to = Math.floor(((i + 1) * words.length) / count);
      out.push(words.slice(from, to).join(''));
    }
    // Trailing whitespace after the last word belongs to the last piece.
    const joined = out.join('');
    if (joined.length < t.length) out[count - 1] += t.slice(joined.length);
    return out;
  }
  return splitCodePoints(t, count);
}

/** Splits a JSON string (tool arguments) into `n` non-empty pieces, fewer if it is shorter. */
export function splitArgs(json: string, n: number): string[] {
  const cps = Array.from(json).length;
  return splitCodePoints(json, Math.max(1, Math.min(Math.floor(n), cps)));
}

/** A small cache of JSON-escaped stream pieces per (text, chunks). */
const pieceCache = new Map<string, { pieces: string[]; escaped: string[]; full: string }>();

/** The reply split into `n` pieces, each JSON-escaped (quotes included), and the full text. */
export function replyPieces(text: string, n: number): { pieces: string[]; escaped: string[]; full: string } {
  const key = n + '\u0000' + text;
  let hit = pieceCache.get(key);
  if (!hit) {
    const pieces = splitText(text, n);
    hit = { pieces, escaped: pieces.map((p) => JSON.stringify(p)), full: pieces.join('') };
    if (pieceCache.size > 500) pieceCache.clear();
    pieceCache.set(key, hit);
  }
  return hit;
}

/** Example arguments for a tool from its JSON schema: one plausible value per property. */
export function exampleArguments(schema: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!schema || typeof schema !== 'object') return out;
  const props = (schema as { properties?: unknown }).properties;
  if (!props || typeof props !== 'object') return out;
  for (const [name, def] of Object.entries(props as Record<string, unknown>)) {
    const d = (def ?? {}) as { type?: unknown; enum?: unknown[] };
    if (Array.isArray(d.enum) && d.enum.length > 0) out[name] = d.enum[0];
    else if (d.type === 'number' || d.type === 'integer') out[name] = 1;
    else if (d.type === 'boolean') out[name] = true;
    else if (d.type === 'array') out[name] = [];
    else if (d.type === 'object') out[name] = exampleArguments(d);
    else out[name] = 'Paris';
  }
  return out;
}

/** The tool call a reply makes. */
export interface ToolCallReply {
  id: string;
  name: string;
  /** The arguments as a JSON string. */
  arguments: string;
}

/** Everything a dialect needs to render one reply. */
export interface ReplyContext {
  id: string;
  created: number;
  /** The model name, JSON-escaped with quotes. */
  modelJson: string;
  model: string;
  /** Text content: pieces (raw and JSON-escaped); empty when the reply is only a tool call. */
  pieces: string[];
  escaped: string[];
  text: string;
  toolCall: ToolCallReply | undefined;
  /** The tool arguments split into stream pieces, JSON-escaped. */
  argPiecesEscaped: string[];
  promptTokens: number;
  completionTokens: number;
  /** Provider-specific stop reason; undefined means the natural one. */
  finishReason: string | undefined;
  includeUsage: boolean;
  obfuscation: boolean;
  /** Anthropic: the thinking block that comes first when the request asked for thinking. */
  thinking?: string | undefined;
  /** OpenAI Chat: the reply's `reasoning_content` (ReplyOverrides.reasoning). */
  reasoning?: string | undefined;
  /** Anthropic: the thinking block's signature (one the fake has issued and will take back). */
  signature?: string | undefined;
  /**
   * Prompt tokens read from the prompt cache; part of promptTokens. Anthropic: a cache_control
   * prefix seen before; OpenAI (the `promptCache` option): the longest prompt prefix seen before.
   */
  cacheReadTokens?: number | undefined;
  /** Anthropic: prompt tokens written to the prompt cache (a cache_control prefix seen first); part of promptTokens. */
  cacheCreationTokens?: number | undefined;
}

/**
 * A stream rendered as SSE frames: `pre` goes out with the headers, each
 * element of `content` is one content-bearing chunk (it may carry the
 * structural events that must precede it), `post` ends the stream.
 */
export interface StreamFrames {
  pre: string;
  content: string[];
  post: string;
}

/** What an error looks like on the wire. */
export interface WireError {
  status: number;
  body: string;
  headers?: Record<string, string>;
}

/** Options of an error a behaviour asks for. */
export interface ErrorSpec {
  message?: string | undefined;
  type?: string | undefined;
  code?: string | number | null | undefined;
  param?: string | null | undefined;
}

/** Masks a key the way providers echo it: only its last four characters show. */
export function maskKey(key: string): string {
  if (key.length < 12) return '*'.repeat(Math.max(3, key.length));
  return key.slice(0, 3) + '*'.repeat(Math.min(20, key.length - 7)) + key.slice(-4);
}
