/**
 * The provider adapters by name, and the base URLs of providers that have one.
 */
import { anthropicAdapter } from './anthropic.ts';
import { bedrockAdapter } from './bedrock.ts';
import { geminiAdapter } from './gemini.ts';
import { vertexAdapter } from './vertex.ts';
import { azureOpenaiAdapter, openaiAdapter, openaiCompatibleAdapter } from './openai.ts';
import type { ProviderAdapter, ProviderName } from './types.ts';

/** Used when a target names no baseURL (openai-compatible and azure-openai must name one). */
export { DEFAULT_BASE_URLS } from '../../../api/v1alpha1/enums.ts';

const ADAPTERS: Readonly<Record<ProviderName, ProviderAdapter>> = {
  openai: openaiAdapter,
  'openai-compatible': openaiCompatibleAdapter,
  'azure-openai': azureOpenaiAdapter,
  anthropic: anthropicAdapter,
  gemini: geminiAdapter,
  bedrock: bedrockAdapter,
  vertex: vertexAdapter,
};

export function adapterFor(provider: ProviderName): ProviderAdapter {
  if (!Object.hasOwn(ADAPTERS, provider)) throw new Error(`unknown provider '${String(provider)}'`);
  return ADAPTERS[provider];
}
