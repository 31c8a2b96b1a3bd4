/**
 * What the translation needs to know about a Claude model, read from its
 * name (README, "Anthropic targets"): the output limit used as max_tokens
 * when neither the client nor the target sets one, how it takes extended
 * thinking, and whether it has structured outputs (output_config.format).
 *
 * Names are matched by family and version anywhere in the string, so dated
 * ids (claude-sonnet-4-5-20250929), aliases (claude-sonnet-4-5) and cloud
 * ids (anthropic.claude-sonnet-4-5-20250929-v1:0) read the same. A name that
 * matches no family gets the conservative values: 4096 tokens (every Claude
 * model accepts it), no thinking, no structured outputs.
 */

export interface ModelTraits {
  /** max_tokens when the client and the target set none: the model's documented output limit. */
  maxOutput: number;
  /** `budget`: thinking {type: enabled, budget_tokens}; `adaptive`: thinking {type: adaptive} + output_config.effort; `none`: no thinking. */
  thinking: 'none' | 'budget' | 'adaptive';
  /** JSON outputs through output_config.format. */
  structuredOutputs: boolean;
}

export const UNKNOWN_MODEL: Readonly<ModelTraits> = Object.freeze({ maxOutput: 4096, thinking: 'none', structuredOutputs: false });

/** claude-<tier>-<major>[-<minor>] (Claude 4 on) and claude-<major>[-<minor>]-<tier> (Claude 3). */
const NEW_NAME = /claude-(opus|sonnet|haiku)-(\d+)(?:[-.](\d)(?!\d))?/;
const OLD_NAME = /claude-(\d)(?:[-.](\d))?-(opus|sonnet|haiku)/;

export function traitsOf(tier: string, version: number): ModelTraits {
  if (version < 3.5) return { maxOutput: 4096, thinking: 'none', structuredOutputs: false };
  if (version < 3.7) return { maxOutput: 8192, thinking: 'none', structuredOutputs: false };
  if (version < 4) return { maxOutput: 64000, thinking: 'budget', structuredOutputs: false };
  const maxOutput = tier === 'opus' && version < 4.5 ? 32000 : 64000;
  return { maxOutput, thinking: version >= 4.6 ? 'adaptive' : 'budget', structuredOutputs: version >= 4.5 };
}

const cache = new Map<string, ModelTraits>();

/** The traits of a model name (memoised: a config has a handful of models). */
export function modelTraits(model: string): ModelTraits {
  let t = cache.get(model);
  if (t) return t;
  const m = NEW_NAME.exec(model);
  const o = m ? null : OLD_NAME.exec(model);
  if (m) t = traitsOf(m[1]!, Number(m[2]) + Number(m[3] ?? 0) / 10);
  else if (o) t = traitsOf(o[3]!, Number(o[1]) + Number(o[2] ?? 0) / 10);
  else t = UNKNOWN_MODEL;
  if (cache.size >= 256) cache.clear();
  cache.set(model, t);
  return t;
}
