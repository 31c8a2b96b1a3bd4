import { describe, expect, it } from '@jest/globals';
import {
  baseUrlHost,
  DEFAULT_DESTINATIONS,
  hostAllowed,
  HostRuleError,
  keyDestinationProblems,
  keyDestinations,
  parseAllowedHostsFlag,
  parseHostRule,
} from './key-destinations.ts';

const key = { name: 's', key: 'k' };
const allowed = (provider: string, baseURL: string | undefined, policy = DEFAULT_DESTINATIONS) =>
  keyDestinationProblems([{ name: 't', provider: provider as never, baseURL, apiKeySecretRef: key }], policy).length === 0;

describe('key destinations', () => {
  it('allows the public endpoints by default, with or without a baseURL', () => {
    expect(allowed('openai', undefined)).toBe(true);
    expect(allowed('openai', 'https://api.openai.com/v1')).toBe(true);
    expect(allowed('anthropic', undefined)).toBe(true);
    expect(allowed('anthropic', 'https://api.anthropic.com')).toBe(true);
    expect(allowed('azure-openai', 'https://my-res.openai.azure.com')).toBe(true);
    expect(allowed('azure-openai', 'https://my-res.cognitiveservices.azure.com/openai')).toBe(true);
  });

  it('refuses other hosts, and a provider’s host for another provider', () => {
    expect(allowed('openai', 'https://evil.example/v1')).toBe(false);
    expect(allowed('anthropic', 'https://api.openai.com/v1')).toBe(false);
    expect(allowed('openai-compatible', 'https://api.openai.com/v1')).toBe(false);
    expect(allowed('azure-openai', 'https://openai.azure.com')).toBe(false); // the wildcard does not match the domain itself
    expect(allowed('azure-openai', 'https://my-res.openai.azure.com.evil.example')).toBe(false);
    expect(allowed('openai', 'https://evilapi.openai.com')).toBe(false);
  });

  it('lets a key-less target go anywhere: it carries no key', () => {
    expect(keyDestinationProblems([{ name: 'local', provider: 'openai-compatible', baseURL: 'http://10.0.0.7:8000/v1' }], DEFAULT_DESTINATIONS)).toEqual([]);
  });

  it('gemini: its public host; bedrock: the regional host or the VPC endpoint, under amazonaws.com', () => {
    const key = { name: 's', key: 'k' };
    expect(keyDestinationProblems([{ name: 'g', provider: 'gemini', apiKeySecretRef: key }], DEFAULT_DESTINATIONS)).toEqual([]);
    expect(keyDestinationProblems([{ name: 'b', provider: 'bedrock', region: 'eu-west-1', apiKeySecretRef: key }], DEFAULT_DESTINATIONS)).toEqual([]);
    expect(
      keyDestinationProblems([{ name: 'b', provider: 'bedrock', region: 'eu-west-1', endpoint: 'https://vpce-0a1b-x1y2.bedrock-runtime.eu-west-1.vpce.amazonaws.com', apiKeySecretRef: key }], DEFAULT_DESTINATIONS),
    ).toEqual([]);
    expect(keyDestinationProblems([{ name: 'b', provider: 'bedrock', region: 'eu-west-1', endpoint: 'https://bedrock.evil.example', apiKeySecretRef: key }], DEFAULT_DESTINATIONS)).toHaveLength(1);
    // Without a Secret, nothing is sent but what the pod's identity signs: any endpoint.
    expect(keyDestinationProblems([{ name: 'b', provider: 'bedrock', region: 'eu-west-1', endpoint: 'http://10.0.0.9' }], DEFAULT_DESTINATIONS)).toEqual([]);
  });

  it('vertex: the host of its location (global: aiplatform.googleapis.com), or its baseURL', () => {
    const key = { name: 's', key: 'k' };
    expect(keyDestinationProblems([{ name: 'v', provider: 'vertex', location: 'us-east5', apiKeySecretRef: key }], DEFAULT_DESTINATIONS)).toEqual([]);
    expect(keyDestinationProblems([{ name: 'v', provider: 'vertex', location: 'global', apiKeySecretRef: key }], DEFAULT_DESTINATIONS)).toEqual([]);
    expect(keyDestinationProblems([{ name: 'v', provider: 'vertex', location: 'us-east5', baseURL: 'https://vertex.evil.example', apiKeySecretRef: key }], DEFAULT_DESTINATIONS)).toEqual([
      expect.stringContaining('host "vertex.evil.example" is not allowed for vertex targets'),
    ]);
  });

  it('compares case-insensitively and ignores a trailing dot', () => {
    expect(allowed('openai', 'https://API.OpenAI.com/v1')).toBe(true);
    expect(allowed('openai', 'https://api.openai.com./v1')).toBe(true);
    expect(allowed('azure-openai', 'https://My-Res.OPENAI.azure.com./')).toBe(true);
    const p = keyDestinations({ openai: ['Proxy.Corp.Example.'] });
    expect(allowed('openai', 'https://proxy.corp.example/v1', p)).toBe(true);
  });

  it('ports: a bare host allows any port, host:port only that one (default ports count)', () => {
    expect(allowed('openai', 'https://api.openai.com:8443/v1')).toBe(true);
    const p = keyDestinations({ 'openai-compatible': ['vllm.ml.svc:8000', '*.corp.example:443'] });
    expect(allowed('openai-compatible', 'http://vllm.ml.svc:8000/v1', p)).toBe(true);
    expect(allowed('openai-compatible', 'http://vllm.ml.svc:8001/v1', p)).toBe(false);
    expect(allowed('openai-compatible', 'http://vllm.ml.svc/v1', p)).toBe(false);
    expect(allowed('openai-compatible', 'https://a.b.corp.example/v1', p)).toBe(true);
    expect(allowed('openai-compatible', 'https://a.corp.example:443/v1', p)).toBe(true);
    expect(allowed('openai-compatible', 'http://a.corp.example/v1', p)).toBe(false);
  });

  it('IP literals: exact only, in their normal form; a wildcard never matches one', () => {
    const p = keyDestinations({ 'openai-compatible': ['10.0.0.7', '[::1]:8000'] });
    expect(allowed('openai-compatible', 'http://10.0.0.7:8000/v1', p)).toBe(true);
    expect(allowed('openai-compatible', 'http://0x0a.0.0.7/v1', p)).toBe(true); // undici connects to 10.0.0.7
    expect(allowed('openai-compatible', 'http://167772167/v1', p)).toBe(true);
    expect(allowed('openai-compatible', 'http://10.0.0.8/v1', p)).toBe(false);
    expect(allowed('openai-compatible', 'http://[::1]:8000/v1', p)).toBe(true);
    expect(allowed('openai-compatible', 'http://[0:0::1]:8000/v1', p)).toBe(true);
    expect(allowed('openai-compatible', 'http://[::1]:8001/v1', p)).toBe(false);
    expect(() => parseHostRule('*.0.0.7')).toThrow(HostRuleError);
    expect(() => parseHostRule('*.1.2.3')).toThrow(HostRuleError);
    expect(() => parseHostRule('::1')).toThrow(/brackets/);
    expect(hostAllowed([{ kind: 'suffix', host: '0.0.7' }], { host: '10.0.0.7', port: '80', ip: true })).toBe(false);
  });

  it('userinfo, backslashes, whitespace and percent-encoded hosts are refused, whatever they seem to name', () => {
    for (const url of [
      'https://api.openai.com@evil.example/v1',
      'https://api.openai.com:443@evil.example/v1',
      'https://user:pass@api.openai.com/v1',
      'https://evil.example\\@api.openai.com/v1',
      'https://evil.example\\.api.openai.com/v1',
      'https://api.openai.com%2eevil.example/v1',
      'https://evil%2Eexample/v1',
      'https://api.openai.com /v1',
      'https://api.openai.com\t/v1',
    ]) {
      expect([url, allowed('openai', url)]).toEqual([url, false]);
    }
    expect(baseUrlHost('https://api.openai.com@evil.example/v1')).toEqual({ ok: false, problem: expect.stringContaining('userinfo') });
    // What follows the authority cannot change the host.
    expect(allowed('openai', 'https://evil.example#@api.openai.com')).toBe(false);
    expect(allowed('openai', 'https://evil.example?@api.openai.com')).toBe(false);
    expect(allowed('openai', 'https://api.openai.com/v1?x=@evil.example')).toBe(true);
  });

  it('IDN: hosts are compared in punycode, entries written either way', () => {
    const p = keyDestinations({ 'openai-compatible': ['bücher.example', '*.xn--mnchen-3ya.example'] });
    expect(p['openai-compatible'][0]).toEqual({ kind: 'exact', host: 'xn--bcher-kva.example' });
    expect(allowed('openai-compatible', 'https://bücher.example/v1', p)).toBe(true);
    expect(allowed('openai-compatible', 'https://xn--bcher-kva.example/v1', p)).toBe(true);
    expect(allowed('openai-compatible', 'https://BÜCHER.example/v1', p)).toBe(true);
    expect(allowed('openai-compatible', 'https://llm.münchen.example/v1', p)).toBe(true);
    expect(allowed('openai-compatible', 'https://bucher.example/v1', p)).toBe(false);
    // A look-alike (Cyrillic а in "аpi") is another host.
    expect(allowed('openai', 'https://\u0430pi.openai.com/v1')).toBe(false);
  });

  it('* allows any host for a provider; a provider not listed allows none', () => {
    const p = keyDestinations({ 'openai-compatible': ['*'] });
    expect(allowed('openai-compatible', 'http://anything.example:1234', p)).toBe(true);
    expect(allowed('openai', undefined, p)).toBe(false);
  });

  it('the message names the host, the provider, and how an admin allows it', () => {
    const [m] = keyDestinationProblems([{ name: 'local', provider: 'openai-compatible', baseURL: 'http://evil.example:8443/v1', apiKeySecretRef: key }], DEFAULT_DESTINATIONS);
    expect(m).toBe(
      'target "local": host "evil.example:8443" is not allowed for openai-compatible targets with an apiKeySecretRef (the key would be sent there); ' +
        'a cluster admin allows it with the chart value keyDestinations.allowedHosts.openai-compatible (operator flag --allowed-base-url-hosts=openai-compatible=evil.example:8443)',
    );
  });

  it('the flag: provider=host pairs, repeatable per provider; bad entries and providers are refused', () => {
    expect(parseAllowedHostsFlag('openai=api.openai.com, openai=proxy.corp:8443,openai-compatible=*')).toEqual({ openai: ['api.openai.com', 'proxy.corp:8443'], 'openai-compatible': ['*'] });
    expect(parseAllowedHostsFlag('')).toEqual({});
    for (const bad of ['cohere=x.example', 'api.openai.com', 'openai=', 'openai=https://api.openai.com', 'openai=a@b', 'openai=*x.example', 'openai=a.example:0', 'openai=a.example:99999', 'openai=a.*.example']) {
      expect(() => parseAllowedHostsFlag(bad)).toThrow(HostRuleError);
    }
  });
});
