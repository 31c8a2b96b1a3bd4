/**
 * Where a Secret's key may be sent: the cluster admin's list of hosts per
 * provider (--allowed-base-url-hosts; the chart's keyDestinations), and the
 * decision for a route's targets. Pure.
 *
 * A target with an apiKeySecretRef is allowed only when the host of its
 * baseURL (or of its provider's default one) is on its provider's list. A
 * target without one carries no key and may go anywhere. The host is the
 * one the sidecar connects to: the WHATWG URL parser's (undici's), so IDN
 * hosts are compared in punycode, IPv4 literals in dotted form, all in
 * lower case, a trailing dot dropped. Whatever could make two parsers
 * disagree on the host is refused outright: userinfo (`https://a@b`), a
 * backslash, whitespace, a percent sign in the authority.
 *
 * Entries: `*` (any host), `host` (any port), `host:port`, `*.domain` (any
 * host under domain, at any depth; not domain itself, never an IP literal),
 * `*.domain:port`, `[v6]`, `[v6]:port`.
 */
import { OperatorError } from '../errors.ts';
import { bedrockRuntimeHost, DEFAULT_BASE_URLS, DEFAULT_KEY_DESTINATIONS, PROVIDERS, vertexHost, type Provider } from '../../../api/v1alpha1/enums.ts';

export interface HostRule {
  kind: 'any' | 'exact' | 'suffix';
  /** Normalised; for 'suffix', the domain (without `*.`). */
  host: string;
  /** Only this port, when given. */
  port?: string;
}

export type KeyDestinations = Readonly<Record<Provider, readonly HostRule[]>>;

/** An entry of the allowed-hosts list that is not a host rule. */
export class HostRuleError extends OperatorError<'host_rule'> {
  constructor(message: string) {
    super('host_rule', message);
  }
}

/** One entry of the list, normalised; throws HostRuleError. */
export function parseHostRule(entry: string): HostRule {
  const e = entry.trim();
  if (e === '*') return { kind: 'any', host: '*' };
  if (!e || /[\s\\/@%?#]/.test(e)) throw new HostRuleError(`'${entry}' is not a host, host:port, *.domain or *`);
  const wildcard = e.startsWith('*.');
  const rest = wildcard ? e.slice(2) : e;
  let hostPart = rest;
  let port: string | undefined;
  const v6 = /^(\[[^\]]+\])(?::(\d+))?$/.exec(rest);
  if (v6) {
    hostPart = v6[1]!;
    port = v6[2];
  } else if (rest.includes(':')) {
    const i = rest.lastIndexOf(':');
    hostPart = rest.slice(0, i);
    port = rest.slice(i + 1);
    if (hostPart.includes(':')) throw new HostRuleError(`'${entry}': write an IPv6 address in brackets, as [::1]`);
  }
  if (port !== undefined && (!/^\d{1,5}$/.test(port) || +port < 1 || +port > 65535)) throw new HostRuleError(`'${entry}': '${port}' is not a port`);
  let host: string;
  try {
    host = new URL(`http://${hostPart}/`).hostname;
  } catch {
    throw new HostRuleError(`'${entry}' is not a host, host:port, *.domain or *`);
  }
  host = stripDot(host);
  if (!host || host.includes('*')) throw new HostRuleError(`'${entry}': a wildcard is allowed only as a whole first label (*.example.com)`);
  if (wildcard && (isIpLiteral(host) || /^\d+$/.test(host.split('.').at(-1)!))) throw new HostRuleError(`'${entry}': a wildcard cannot stand for part of an IP address`);
  const rule: HostRule = { kind: wildcard ? 'suffix' : 'exact', host };
  if (port !== undefined) rule.port = String(+port);
  return rule;
}

/** The policy from lists of entries by provider; a provider not named allows no host. Throws HostRuleError. */
export function keyDestinations(lists: Readonly<Partial<Record<Provider, readonly string[]>>>): KeyDestinations {
  const out = Object.fromEntries(PROVIDERS.map((p) => [p, [] as HostRule[]])) as Record<Provider, HostRule[]>;
  for (const [provider, entries] of Object.entries(lists)) {
    if (!(PROVIDERS as readonly string[]).includes(provider)) throw new HostRuleError(`'${provider}' is not a provider (${PROVIDERS.join(', ')})`);
    for (const e of entries ?? []) out[provider as Provider].push(parseHostRule(e));
  }
  return out;
}

export const DEFAULT_DESTINATIONS: KeyDestinations = keyDestinations(DEFAULT_KEY_DESTINATIONS);

export type BaseUrlHost = { ok: true; host: string; port: string; explicitPort: boolean; ip: boolean } | { ok: false; problem: string };

/** The host and port a baseURL sends to, or why it cannot be trusted to name one. */
export function baseUrlHost(url: string): BaseUrlHost {
  if (/[\s\\\u0000-\u001f\u007f]/.test(url)) return { ok: false, problem: 'contains whitespace, a control character or a backslash' };
  const authority = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(url)?.[1];
  if (authority === undefined) return { ok: false, problem: 'is not an absolute http(s) URL' };
  if (authority.includes('@')) return { ok: false, problem: 'has userinfo (user@host): the host is what follows the @' };
  if (authority.includes('%')) return { ok: false, problem: 'has a percent-encoded host' };
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return { ok: false, problem: 'is not a URL' };
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return { ok: false, problem: 'is not an http(s) URL' };
  const host = stripDot(u.hostname);
  if (!host) return { ok: false, problem: 'has no host' };
  return { ok: true, host, port: u.port || (u.protocol === 'https:' ? '443' : '80'), explicitPort: u.port !== '', ip: isIpLiteral(host) };
}

export function hostAllowed(rules: readonly HostRule[], h: { host: string; port: string; ip: boolean }): boolean {
  return rules.some((r) => {
    if (r.kind === 'any') return true;
    if (r.port !== undefined && r.port !== h.port) return false;
    if (r.kind === 'exact') return r.host === h.host;
    return !h.ip && h.host.endsWith(`.${r.host}`);
  });
}

interface KeyedTarget {
  name: string;
  provider: Provider;
  baseURL?: string | undefined;
  /** bedrock: the VPC endpoint, else the regional host of `region`. */
  endpoint?: string | undefined;
  region?: string | undefined;
  /** vertex: the baseURL, else the host of `location`. */
  location?: string | undefined;
  apiKeySecretRef?: unknown;
}

/** Where a target's requests (and so its key) go. */
function destinationURL(t: KeyedTarget): string | undefined {
  if (t.provider === 'bedrock') return t.endpoint ?? (t.region ? `https://${bedrockRuntimeHost(t.region)}` : undefined);
  if (t.provider === 'vertex') return t.baseURL ?? (t.location ? `https://${vertexHost(t.location)}` : undefined);
  return t.baseURL ?? DEFAULT_BASE_URLS[t.provider];
}

/** One line per target whose key would go to a host the policy does not allow, in target order. */
export function keyDestinationProblems(targets: readonly KeyedTarget[], policy: KeyDestinations): string[] {
  const problems: string[] = [];
  for (const t of targets) {
    if (!t.apiKeySecretRef) continue;
    const url = destinationURL(t);
    if (url === undefined) continue; // the spec's validation requires a baseURL (bedrock: a region) for these
    const h = baseUrlHost(url);
    if (!h.ok) {
      problems.push(`target "${t.name}": baseURL ${h.problem}; a target with an apiKeySecretRef must name its host plainly`);
      continue;
    }
    if (hostAllowed(policy[t.provider] ?? [], h)) continue;
    const shown = h.explicitPort ? `${h.host.includes(':') && !h.host.startsWith('[') ? `[${h.host}]` : h.host}:${h.port}` : h.host;
    problems.push(
      `target "${t.name}": host "${shown}" is not allowed for ${t.provider} targets with an apiKeySecretRef (the key would be sent there); ` +
        `a cluster admin allows it with the chart value keyDestinations.allowedHosts.${t.provider} (operator flag --allowed-base-url-hosts=${t.provider}=${shown})`,
    );
  }
  return problems;
}

/** Parses the flag's value: `provider=host,provider=host,...` (empty: nothing allowed). Throws HostRuleError. */
export function parseAllowedHostsFlag(value: string, into: Partial<Record<Provider, string[]>> = {}): Partial<Record<Provider, string[]>> {
  for (const item of value.split(',').map((s) => s.trim()).filter(Boolean)) {
    const i = item.indexOf('=');
    if (i <= 0) throw new HostRuleError(`'${item}' is not provider=host`);
    const provider = item.slice(0, i).trim();
    if (!(PROVIDERS as readonly string[]).includes(provider)) throw new HostRuleError(`'${provider}' is not a provider (${PROVIDERS.join(', ')})`);
    const entry = item.slice(i + 1);
    parseHostRule(entry);
    (into[provider as Provider] ??= []).push(entry.trim());
  }
  return into;
}

function stripDot(host: string): string {
  return host.endsWith('.') ? host.slice(0, -1) : host;
}

function isIpLiteral(host: string): boolean {
  return host.startsWith('[') || /^\d+\.\d+\.\d+\.\d+$/.test(host);
}
