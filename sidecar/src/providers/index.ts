/**
 * The provider adapters by name, and the base URLs of providers that have one.
 */
import { anthropicAdapter } from './anthropic.ts';
import { azureOpenaiAdapter, openaiAdapter, openaiCompatibleAdapter } from './openai.ts';
import type { ProviderAdapter, ProviderName } from './types.ts';

/** Used when a target names no baseURL (openai-compatible and azure-openai must name one). */
export const DEFAULT_BASE_URLS: Readonly<Partial<Record<ProviderName, string>>> = Object.freeze({
  openai: 'https://api.openai.com/v1',
  anthropic: 'https://api.anthropic.com/v1',
});

const ADAPTERS: Readonly<Record<ProviderName, ProviderAdapter>> = {
  openai: openaiAdapter,
  'openai-compatible': openaiCompatibleAdapter,
  'azure-openai': azureOpenaiAdapter,
  anthropic: anthropicAdapter,
};

export function adapterFor(provider: ProviderName): ProviderAdapter {
  if (!Object.hasOwn(ADAPTERS, provider)) throw new Error(`unknown provider '${String(provider)}'`);
  return ADAPTERS[provider];
}
