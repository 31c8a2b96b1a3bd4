/**
 * Request shaping per target, on the provider's own request body (after the
 * adapter's translation): the config's `params` (drop names, then set
 * values), and the sampling parameters a target was seen to refuse
 * ("`temperature` is deprecated for this model"), which are dropped up
 * front once learned. Pure. A target with neither costs nothing: the
 * adapter's body goes out as it is; with them, the body is parsed and
 * written again.
 */
import type { Target } from './config/runtime-config.ts';
import { isObject, tryParse } from './providers/common.ts';
import type { ProviderError } from './providers/types.ts';

/** Whether a try on this target changes the adapter's body at all. */
export function shapes(target: Target, refused: ReadonlySet<string> | undefined): boolean {
  return target.params !== undefined || (refused !== undefined && refused.size > 0);
}

/** The body without the dropped and refused names, then with the set values. */
export function shapeBody(json: string, target: Target, refused: ReadonlySet<string> | undefined): string {
  const body = tryParse(json);
  if (!isObject(body)) return json;
  for (const name of target.params?.drop ?? []) delete body[name];
  if (refused) for (const name of refused) delete body[name];
  const set = target.params?.set;
  if (set) for (const name of Object.keys(set)) body[name] = set[name];
  return JSON.stringify(body);
}

/**
 * Knobs a model may refuse and a request can do without: the provider's
 * default takes their place. Nothing that changes what the answer is
 * (max_tokens, stop, tools, n, response_format) is dropped this way.
 */
const DROPPABLE: ReadonlySet<string> = new Set(['temperature', 'top_p', 'top_k', 'frequency_penalty', 'presence_penalty', 'repetition_penalty', 'min_p', 'seed']);

/**
 * The wording of a refusal that names one parameter: Anthropic's
 * "`temperature` is deprecated for this model.", OpenAI's "Unsupported
 * parameter: 'temperature' is not supported with this model." and
 * "Unsupported value: 'temperature' does not support 0 with this model.",
 * and the same with "not supported for this model".
 */
const REFUSAL = /(?:^|[\s:])[`'"]?([a-z][a-z0-9_]*)[`'"]?\s+(?:is\s+(?:deprecated|not\s+supported)|does\s+not\s+support)\b/i;

/**
 * The parameter a 400 refuses, when it is a droppable one that this try's
 * body (the provider's, as sent) has at its top level and that the target
 * was not already known to refuse; else undefined.
 */
export function refusedParam(e: ProviderError, sentBody: string, refused: ReadonlySet<string> | undefined): string | undefined {
  if (e.status !== 400 || e.errorClass !== 'bad-request') return undefined;
  // The wording, not just `param`: "Invalid value for temperature: 3" (param temperature) is the client's mistake.
  const named = REFUSAL.exec(e.message)?.[1]?.toLowerCase();
  if (!named || !DROPPABLE.has(named) || refused?.has(named)) return undefined;
  const body = tryParse(sentBody);
  return isObject(body) && Object.hasOwn(body, named) ? named : undefined;
}
