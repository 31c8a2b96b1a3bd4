/**
 * Checks a client's request body before any upstream call: it must be a
 * JSON object with a string `model`, and the fields every provider relies
 * on must have the right types and sane values. Unknown fields pass through.
 * Pure; throws BadRequestError naming the field.
 */
import { BadRequestError } from './errors.ts';
import type { EndpointKind } from './providers/types.ts';

/** Deeper JSON than this is refused up front: serialising it again would overflow the stack. */
export const MAX_JSON_DEPTH = 256;
const utf8 = new TextDecoder('utf-8', { fatal: true });

export function parseJsonBody(raw: Buffer): Record<string, unknown> {
  if (raw.length === 0) throw new BadRequestError('the request body is empty; send a JSON object', null, 'invalid_json');
  let text: string;
  try {
    // JSON must be UTF-8 (RFC 8259): refuse invalid bytes instead of forwarding U+FFFD in their place
    text = utf8.decode(raw);
  } catch {
    throw new BadRequestError('the request body is not valid UTF-8', null, 'invalid_json');
  }
  if (raw.length > MAX_JSON_DEPTH && !bracketsAtMost(raw, MAX_JSON_DEPTH) && nestedDeeperThan(raw, MAX_JSON_DEPTH)) {
    throw new BadRequestError(`the request body nests arrays and objects more than ${MAX_JSON_DEPTH} levels deep`, null, 'invalid_json');
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw new BadRequestError(`the request body is not valid JSON (${(err as Error).message.slice(0, 200)})`, null, 'invalid_json');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new BadRequestError('the request body must be a JSON object', null, 'invalid_json');
  return body as Record<string, unknown>;
}

/**
 * Whether the text holds at most `limit` opening brackets in all: then it
 * cannot nest deeper than that. Buffer.indexOf is native, so this costs
 * about 1 µs on a 12 KB body where the byte-by-byte depth scan costs 16 µs
 * (more than JSON.parse itself); the scan runs only for bodies with many
 * brackets.
 */
function bracketsAtMost(raw: Buffer, limit: number): boolean {
  let n = 0;
  for (let i = raw.indexOf(0x7b); i !== -1; i = raw.indexOf(0x7b, i + 1)) if (++n > limit) return false;
  for (let i = raw.indexOf(0x5b); i !== -1; i = raw.indexOf(0x5b, i + 1)) if (++n > limit) return false;
  return true;
}

/** Whether JSON text opens more than `limit` arrays or objects inside one another (brackets in strings do not count). */
function nestedDeeperThan(raw: Uint8Array, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped byte
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

const ROLES = new Set(['system', 'developer', 'user', 'assistant', 'tool', 'function']);

export function checkRequest(kind: EndpointKind, body: Record<string, unknown>): string {
  const model = body.model;
  if (typeof model !== 'string' || model.length === 0) throw new BadRequestError("'model' is required and must be a non-empty string", 'model', 'missing_model');
  if (kind === 'embeddings') {
    const input = body.input;
    const ok = typeof input === 'string' || (Array.isArray(input) && input.length > 0 && input.length <= 2048);
    if (!ok) throw new BadRequestError("'input' must be a string or a non-empty array (at most 2048 items)", 'input');
    return model;
  }
  if (kind === 'completions') {
    const p = body.prompt;
    const ok = typeof p === 'string' || (Array.isArray(p) && p.length > 0);
    if (!ok) throw new BadRequestError("'prompt' must be a string or a non-empty array (strings or tokens)", 'prompt');
    checkSampling(body);
    return model;
  }
  if (kind === 'responses') {
    checkResponsesRequest(body);
    return model;
  }
  if (kind === 'messages' || kind === 'count-tokens') {
    checkMessagesRequest(body, kind === 'messages');
    return model;
  }
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length === 0) throw new BadRequestError("'messages' must be a non-empty array", 'messages');
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i] as Record<string, unknown> | null;
    if (typeof m !== 'object' || m === null || Array.isArray(m)) throw new BadRequestError(`'messages[${i}]' must be an object`, `messages[${i}]`);
    if (typeof m.role !== 'string' || !ROLES.has(m.role)) throw new BadRequestError(`'messages[${i}].role' must be one of ${[...ROLES].join(', ')}`, `messages[${i}].role`);
    const c = m.content;
    if (c !== undefined && c !== null && typeof c !== 'string' && !Array.isArray(c)) throw new BadRequestError(`'messages[${i}].content' must be a string or an array of parts`, `messages[${i}].content`);
    if (Array.isArray(c)) {
      for (let j = 0; j < c.length; j++) {
        if (!isPlainObject(c[j])) throw new BadRequestError(`'messages[${i}].content[${j}]' must be an object (a content part)`, `messages[${i}].content[${j}]`);
      }
    }
  }
  checkSampling(body);
  integer(body, 'max_completion_tokens', 1, 10_000_000);
  if (body.tools !== undefined && body.tools !== null && !Array.isArray(body.tools)) throw new BadRequestError("'tools' must be an array", 'tools');
  if (Array.isArray(body.tools)) {
    for (let j = 0; j < body.tools.length; j++) if (!isPlainObject(body.tools[j])) throw new BadRequestError(`'tools[${j}]' must be an object`, `tools[${j}]`);
  }
  const stop = body.stop;
  if (stop !== undefined && stop !== null && typeof stop !== 'string' && !(Array.isArray(stop) && stop.every((s) => typeof s === 'string'))) {
    throw new BadRequestError("'stop' must be a string or an array of strings", 'stop');
  }
  return model;
}

/**
 * OpenAI's Responses API: `input` a string or an array of items (objects), optional when the
 * request continues an earlier response; the types of the fields every target reads.
 */
function checkResponsesRequest(body: Record<string, unknown>): void {
  const input = body.input;
  if (input !== undefined && input !== null && typeof input !== 'string' && !Array.isArray(input)) throw new BadRequestError("'input' must be a string or an array of input items", 'input');
  if (Array.isArray(input)) {
    for (let i = 0; i < input.length; i++) if (!isPlainObject(input[i])) throw new BadRequestError(`'input[${i}]' must be an object (an input item)`, `input[${i}]`);
  }
  if ((input === undefined || input === null) && typeof body.previous_response_id !== 'string' && body.prompt === undefined) {
    throw new BadRequestError("'input' is required (a string or an array of input items) unless the request continues a previous_response_id", 'input');
  }
  if (body.instructions !== undefined && body.instructions !== null && typeof body.instructions !== 'string') throw new BadRequestError("'instructions' must be a string", 'instructions');
  if (body.previous_response_id !== undefined && body.previous_response_id !== null && typeof body.previous_response_id !== 'string') {
    throw new BadRequestError("'previous_response_id' must be a string", 'previous_response_id');
  }
  if (body.stream !== undefined && body.stream !== null && typeof body.stream !== 'boolean') throw new BadRequestError("'stream' must be true or false", 'stream');
  integer(body, 'max_output_tokens', 1, 10_000_000);
  number(body, 'temperature', 0, 2);
  number(body, 'top_p', 0, 1);
  if (body.tools !== undefined && body.tools !== null && !Array.isArray(body.tools)) throw new BadRequestError("'tools' must be an array", 'tools');
  if (Array.isArray(body.tools)) {
    for (let j = 0; j < body.tools.length; j++) if (!isPlainObject(body.tools[j])) throw new BadRequestError(`'tools[${j}]' must be an object`, `tools[${j}]`);
  }
}

const MESSAGE_ROLES = new Set(['user', 'assistant']);

/**
 * Anthropic's Messages API (and count_tokens, which takes no max_tokens): `messages` a non-empty
 * array of user/assistant turns, their content a string or blocks; `max_tokens` required, as the
 * API requires it. Errors name the field the way Anthropic's do (`messages.0.role`).
 */
function checkMessagesRequest(body: Record<string, unknown>, needsMaxTokens: boolean): void {
  const messages = body.messages;
  if (!Array.isArray(messages)) throw new BadRequestError('messages: Field required (an array of user and assistant turns)', 'messages');
  if (messages.length === 0) throw new BadRequestError('messages: at least one message is required', 'messages');
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i] as Record<string, unknown> | null;
    if (!isPlainObject(m)) throw new BadRequestError(`messages.${i}: Input should be an object`, `messages.${i}`);
    if (typeof m!.role !== 'string' || !MESSAGE_ROLES.has(m!.role)) throw new BadRequestError(`messages.${i}.role: Input should be 'user' or 'assistant'`, `messages.${i}.role`);
    const c = m!.content;
    if (typeof c !== 'string' && !Array.isArray(c)) throw new BadRequestError(`messages.${i}.content: Input should be a string or a list of content blocks`, `messages.${i}.content`);
    if (Array.isArray(c)) {
      for (let j = 0; j < c.length; j++) {
        const b = c[j] as Record<string, unknown> | null;
        if (!isPlainObject(b) || typeof b!.type !== 'string') throw new BadRequestError(`messages.${i}.content.${j}: Input should be a content block with a type`, `messages.${i}.content.${j}`);
      }
    }
  }
  if (needsMaxTokens) {
    const mt = body.max_tokens;
    if (mt === undefined || mt === null) throw new BadRequestError('max_tokens: Field required', 'max_tokens');
    integer(body, 'max_tokens', 1, 10_000_000);
  }
  const system = body.system;
  if (system !== undefined && system !== null && typeof system !== 'string' && !Array.isArray(system)) throw new BadRequestError('system: Input should be a string or a list of text blocks', 'system');
  if (body.stream !== undefined && body.stream !== null && typeof body.stream !== 'boolean') throw new BadRequestError('stream: Input should be a valid boolean', 'stream');
  number(body, 'temperature', 0, 1);
  number(body, 'top_p', 0, 1);
  integer(body, 'top_k', 0, 1_000_000);
  if (body.tools !== undefined && body.tools !== null && !Array.isArray(body.tools)) throw new BadRequestError('tools: Input should be a valid list', 'tools');
  if (Array.isArray(body.tools)) {
    for (let j = 0; j < body.tools.length; j++) if (!isPlainObject(body.tools[j])) throw new BadRequestError(`tools.${j}: Input should be an object`, `tools.${j}`);
  }
  const stops = body.stop_sequences;
  if (stops !== undefined && stops !== null && !(Array.isArray(stops) && stops.every((x) => typeof x === 'string'))) throw new BadRequestError('stop_sequences: Input should be a list of strings', 'stop_sequences');
}

/** The fields chat and legacy completions share: stream, n, max_tokens, temperature, top_p. */
function checkSampling(body: Record<string, unknown>): void {
  if (body.stream !== undefined && body.stream !== null && typeof body.stream !== 'boolean') throw new BadRequestError("'stream' must be true or false", 'stream');
  integer(body, 'n', 1, 128);
  integer(body, 'max_tokens', 1, 10_000_000);
  number(body, 'temperature', 0, 2);
  number(body, 'top_p', 0, 1);
}

function isPlainObject(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function integer(body: Record<string, unknown>, key: string, min: number, max: number): void {
  const v = body[key];
  if (v === undefined || v === null) return;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new BadRequestError(`'${key}' must be a whole number from ${min} to ${max}`, key);
}

function number(body: Record<string, unknown>, key: string, min: number, max: number): void {
  const v = body[key];
  if (v === undefined || v === null) return;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) throw new BadRequestError(`'${key}' must be a number from ${min} to ${max}`, key);
}
