/**
 * POST /v1/messages/count_tokens for a route whose serving target is not an
 * anthropic one: an estimate, as Chat servers have no such endpoint
 * (README, "count_tokens"). The rule, chosen to be cheap, stable and on the
 * high side of what Claude's tokenizer gives for English and code:
 *
 *   - text counts its UTF-8 bytes / 4, rounded up: the system prompt, text
 *     blocks, thinking, tool_use inputs and tool_result contents (as JSON
 *     for inputs), text documents, and each tool's name, description and
 *     input_schema (as JSON);
 *   - an image counts IMAGE_TOKENS (Anthropic's cost of a ~1.15 megapixel
 *     image, the size it scales larger ones down to);
 *   - a PDF counts PDF_TOKENS_PER_100K for every started 100,000 characters
 *     of its base64 data (about three pages of ~1,000 tokens of text plus
 *     their page images);
 *   - every message adds MESSAGE_TOKENS and every tool TOOL_TOKENS for the
 *     framing the model sees.
 *
 * Answered as `{"input_tokens": n}`, Anthropic's shape.
 */
import { isObject, str, type Json } from '../../providers/common.ts';

export const IMAGE_TOKENS = 1600;
export const PDF_TOKENS_PER_100K = 3000;
export const MESSAGE_TOKENS = 4;
export const TOOL_TOKENS = 8;
/** Nesting beyond this is not counted (a body is bounded, this bounds the walk too). */
const MAX_DEPTH = 8;

function textTokens(text: string): number {
  return text === '' ? 0 : Math.ceil(Buffer.byteLength(text, 'utf8') / 4);
}

function jsonTokens(v: unknown): number {
  return v === undefined ? 0 : textTokens(JSON.stringify(v) ?? '');
}

function blockTokens(block: unknown, depth: number): number {
  if (typeof block === 'string') return textTokens(block);
  if (Array.isArray(block)) return depth > MAX_DEPTH ? 0 : block.reduce((n: number, b) => n + blockTokens(b, depth + 1), 0);
  if (!isObject(block)) return 0;
  switch (block.type) {
    case 'text':
      return textTokens(str(block.text) ?? '');
    case 'thinking':
      return textTokens(str(block.thinking) ?? '');
    case 'image':
      return IMAGE_TOKENS;
    case 'document': {
      const source = isObject(block.source) ? block.source : {};
      const title = textTokens(str(block.title) ?? '');
      if (source.type === 'base64') return title + PDF_TOKENS_PER_100K * Math.max(1, Math.ceil((str(source.data)?.length ?? 0) / 100_000));
      if (source.type === 'text') return title + textTokens(str(source.data) ?? '');
      return title + blockTokens(source.content, depth + 1);
    }
    case 'tool_use':
      return textTokens(str(block.name) ?? '') + jsonTokens(block.input);
    case 'tool_result':
      return blockTokens(block.content, depth + 1);
    default:
      // Other blocks (search results, server-tool results…): their JSON, as text.
      return jsonTokens(block);
  }
}

/** The estimated input tokens of a Messages request. */
export function estimateInputTokens(body: Json): number {
  let n = blockTokens(body.system, 0);
  if (Array.isArray(body.messages)) {
    for (const m of body.messages) {
      if (!isObject(m)) continue;
      n += MESSAGE_TOKENS + blockTokens(m.content, 0);
    }
  }
  if (Array.isArray(body.tools)) {
    for (const t of body.tools) {
      if (!isObject(t)) continue;
      n += TOOL_TOKENS + textTokens(str(t.name) ?? '') + textTokens(str(t.description) ?? '') + jsonTokens(t.input_schema);
    }
  }
  return n;
}

/** The count_tokens answer for a request (serialised). */
export function countTokensBody(body: Json): string {
  return `{"input_tokens":${estimateInputTokens(body)}}`;
}
