/**
 * Which of the serving provider's response headers reach the client: its
 * request id (what the SDKs show as `_request_id`, what a provider's support
 * asks for) and its rate-limit state. An allowlist: nothing hop-by-hop, no
 * framing (content-length, content-encoding, transfer-encoding), no cookie,
 * nothing of a failed attempt (only a committed result carries these).
 * Anthropic's `request-id` also goes out as `x-request-id`, the name the
 * OpenAI SDKs read.
 */

const EXACT: ReadonlySet<string> = new Set(['x-request-id', 'request-id', 'apim-request-id']);
const PREFIXES = ['x-ratelimit-', 'anthropic-ratelimit-'] as const;

/** The headers to pass on, or undefined when there are none. `headers` are undici's (lower-case names). */
export function passthroughHeaders(headers: Readonly<Record<string, string | string[] | undefined>>): Record<string, string> | undefined {
  let out: Record<string, string> | undefined;
  for (const name in headers) {
    if (!EXACT.has(name) && !name.startsWith(PREFIXES[0]) && !name.startsWith(PREFIXES[1])) continue;
    const v = headers[name];
    if (v === undefined) continue;
    const value = Array.isArray(v) ? v.join(', ') : v;
    // A value that could split a header line is not ours to forward (undici refuses none on the way in).
    if (value.length > 1024 || /[\r\n\0]/.test(value)) continue;
    (out ??= {})[name] = value;
  }
  if (out && out['request-id'] !== undefined && out['x-request-id'] === undefined) out['x-request-id'] = out['request-id'];
  return out;
}
