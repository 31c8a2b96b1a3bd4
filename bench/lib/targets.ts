/**
 * What gets measured, each as its own process on 127.0.0.1 (so that its CPU
 * and memory are its own), all pointed at the same fake upstream:
 *
 *   direct   the fake itself (no proxy): the baseline every "added" number is against
 *   floor    node:http + undici pass-through (bench/servers/floor.ts)
 *   sidecar  the real llmroute sidecar (sidecar/src/cli.ts) with a realistic route
 *   express  express + http-proxy (bench/servers/express-proxy.ts)
 *   portkey  the Portkey gateway (npm), same route shape through its x-portkey-config
 *   litellm  the LiteLLM proxy (PyPI), same route shape through its config.yaml
 *
 * Three routes: `chat` (the main one), `failover` (a primary that fails 30 %
 * of calls, then a secondary) and `slow` (a stream with gaps between chunks).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { stripTypeScriptTypes } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeEntrypoint } from '../../hack/dockerfile.ts';
import { portForPeer } from './ports.ts';
import { ensureLitellm, ensurePortkey, sealedEnv } from './peers.ts';
import { startChild, type Child } from './proc.ts';

export type RouteName = 'chat' | 'failover' | 'slow';
export type TargetName = 'direct' | 'floor' | 'sidecar' | 'express' | 'portkey' | 'litellm';
export const ALL_TARGETS: TargetName[] = ['direct', 'floor', 'sidecar', 'express', 'portkey', 'litellm'];
export const PEERS: TargetName[] = ['portkey', 'litellm'];

export interface Endpoint {
  url: string;
  headers: Record<string, string>;
  model: string;
}

export interface Target {
  name: TargetName;
  /** Name and version, for the report. */
  label: string;
  /** The process whose CPU and memory count (null for direct: no proxy). */
  pid: number | null;
  endpoint(route: RouteName): Endpoint | null;
  stop(): Promise<void>;
  /** Things the report should say about this target (a scenario it cannot run, and why). */
  notes: string[];
  child?: Child | undefined;
}

/** Base URLs (http://127.0.0.1:PORT/v1) of the fakes started by bench/servers/upstream.ts. */
export interface Upstream {
  a: string;
  b: string;
  c: string;
  flaky: string;
  secondary: string;
  slow: string;
}

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));
const SIDECAR_CLI = here('../../sidecar/src/cli.ts');
const FLOOR = here('../servers/floor.ts');
const EXPRESS = here('../servers/express-proxy.ts');
const JSON_HEADERS = { 'content-type': 'application/json' };
const SIDECAR_DOCKERFILE = here('../../sidecar/Dockerfile');

/** The node flags the sidecar's image starts it with, so that the bench measures the process the image runs. */
export const imageNodeFlags = (): string[] => nodeEntrypoint(readFileSync(SIDECAR_DOCKERFILE, 'utf8')).flags;

const jsonLine = (key: string) => (line: string): unknown => {
  try {
    const v = (JSON.parse(line) as Record<string, unknown>)[key];
    return v ?? undefined;
  } catch {
    return undefined;
  }
};

async function answers(url: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
  await res.arrayBuffer();
  return true;
}

export function directTarget(up: Upstream): Target {
  const at = (base: string): Endpoint => ({ url: `${base}/chat/completions`, headers: { ...JSON_HEADERS, authorization: 'Bearer sk-bench' }, model: 'gpt-4o-mini' });
  return {
    name: 'direct',
    label: 'direct (the fake upstream, no proxy)',
    pid: null,
    endpoint: (r) => at(r === 'chat' ? up.a : r === 'slow' ? up.slow : up.flaky),
    stop: async () => undefined,
    notes: [],
  };
}

/**
 * A bench server as plain JavaScript, as the sidecar runs from its build: running the .ts
 * would load Node's type stripper into the process (about 17 MB of its memory). Written to
 * bench/servers/.build/ (gitignored), beside the sources, so that packages still resolve.
 */
function asJavaScript(script: string): string {
  const out = join(dirname(script), '.build', basename(script).replace(/\.ts$/, '.mjs'));
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, stripTypeScriptTypes(readFileSync(script, 'utf8')));
  return out;
}

/** floor and express: one process in front of the fakes, the fake picked by the x-bench-upstream header. */
async function passThrough(name: 'floor' | 'express', script: string, label: string, up: Upstream): Promise<Target> {
  const upstreams = { default: up.a, slow: up.slow };
  const { child, ready } = await startChild(name, process.execPath, [asJavaScript(script), '--upstreams', JSON.stringify(upstreams)], { readyLine: jsonLine('listening') });
  const origin = String(ready);
  return {
    name,
    label,
    pid: child.pid,
    child,
    endpoint: (r) => (r === 'failover' ? null : { url: `${origin}/v1/chat/completions`, headers: r === 'slow' ? { ...JSON_HEADERS, 'x-bench-upstream': 'slow' } : JSON_HEADERS, model: 'gpt-4o-mini' }),
    stop: () => child.stop(),
    notes: name === 'floor' || name === 'express' ? ['no failover logic: not in the failover scenario'] : [],
  };
}

export const floorTarget = (up: Upstream): Promise<Target> => passThrough('floor', FLOOR, 'floor (node:http + undici pass-through)', up);
export const expressTarget = (up: Upstream): Promise<Target> => passThrough('express', EXPRESS, 'express + http-proxy', up);

/** The sidecar's config: a realistic `chat` route (3 targets, 2 priorities, weights 80/20, breaker), plus the failover and slow routes. */
export function sidecarConfig(up: Upstream): string {
  const t = (name: string, base: string, extra: string): string =>
    `  - {name: ${name}, provider: openai-compatible, baseURL: "${base}", model: gpt-4o-mini, ${extra}apiKey: {value: sk-bench-${name}}}\n`;
  const policy =
    `  fallbackOn: [rate-limit, server-error, timeout, connection-error]\n` +
    `  timeouts: {connect: 2s, firstByte: 15s, idle: 30s, total: 120s}\n`;
  return (
    `# Written by bench/run.ts\n` +
    `listen: {host: 127.0.0.1, port: 0}\n` +
    `admin: {host: 127.0.0.1, port: 0}\n` +
    `routes:\n` +
    `- name: chat\n  aliases: [gpt-4o-mini]\n  targets:\n` +
    t('primary-a', up.a, 'priority: 0, weight: 80, ') +
    t('primary-b', up.b, 'priority: 0, weight: 20, ') +
    t('backup', up.c, 'priority: 1, ') +
    `  retry: {attempts: 1, backoff: {initial: 200ms, max: 2s}, retryAfterCap: 10s}\n` +
    policy +
    `  circuitBreaker: {consecutiveFailures: 5, openFor: 30s}\n` +
    // Failover: no retry on the same target, so a 503 moves straight on; a breaker that 30 % of
    // random failures will not trip within a run (5 in a row would, every few hundred calls, and
    // then the primary would be skipped for 30 s: right in production, but nothing left to measure).
    `- name: failover\n  targets:\n` +
    t('primary', up.flaky, 'priority: 0, ') +
    t('secondary', up.secondary, 'priority: 1, ') +
    `  retry: {attempts: 0}\n` +
    policy +
    `  circuitBreaker: {consecutiveFailures: 50, openFor: 30s}\n` +
    `- name: slow\n  targets:\n` +
    t('slow', up.slow, '') +
    policy
  );
}

/** The sidecar's "listening" log line (with its `api` and `admin` addresses), for startChild's readyLine. */
export function sidecarListening(line: string): Record<string, unknown> | undefined {
  try {
    const l = JSON.parse(line) as Record<string, unknown>;
    return l.msg === 'llmroute sidecar listening' ? l : undefined;
  } catch {
    return undefined;
  }
}

export async function sidecarTarget(up: Upstream, o: { extraNodeArgs?: string[]; cwd?: string; cli?: string; label?: string } = {}): Promise<Target & { adminURL: string; configPath: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'llmroute-bench-'));
  const configPath = join(dir, 'config.yaml');
  writeFileSync(configPath, sidecarConfig(up));
  const { child, ready } = await startChild(
    'sidecar',
    process.execPath,
    [...(o.extraNodeArgs ?? []), o.cli ?? SIDECAR_CLI, '--config', configPath, '--port', '0', '--admin-port', '0'],
    {
      readyLine: sidecarListening,
      cwd: o.cwd ?? dir,
      env: { ...process.env },
    },
  );
  const r = ready as { api: string; admin: string };
  const api = `http://127.0.0.1:${r.api.split(':').pop()}`;
  const adminURL = `http://127.0.0.1:${r.admin.split(':').pop()}`;
  return {
    name: 'sidecar',
    label: o.label ?? 'llmroute sidecar (sidecar/src/cli.ts)',
    pid: child.pid,
    child,
    adminURL,
    configPath,
    endpoint: (route) => ({ url: `${api}/v1/chat/completions`, headers: JSON_HEADERS, model: route }),
    stop: async () => {
      await child.stop();
      rmSync(dir, { recursive: true, force: true });
    },
    notes: [],
  };
}

// ------------------------------------------------------------------ peers

export async function portkeyTarget(up: Upstream, say: (m: string) => void): Promise<Target | { skip: string }> {
  const inst = await ensurePortkey(say);
  if (!inst.ok) return { skip: inst.reason };
  const port = await portForPeer();
  let child: Child;
  try {
    ({ child } = await startChild('portkey', process.execPath, [inst.value.entry, `--port=${port}`, '--headless'], {
      env: sealedEnv({ NODE_ENV: 'production' }),
      readyPoll: () => answers(`http://127.0.0.1:${port}/`),
    }));
  } catch (err) {
    return { skip: `Portkey ${inst.value.version} did not start: ${(err as Error).message.split('\n')[0]}` };
  }
  const target = (key: string, base: string, weight?: number): Record<string, unknown> => ({
    provider: 'openai',
    api_key: `sk-bench-${key}`,
    custom_host: base,
    override_params: { model: 'gpt-4o-mini' },
    ...(weight !== undefined ? { weight } : {}),
  });
  const configs: Record<RouteName, unknown> = {
    chat: {
      strategy: { mode: 'fallback' },
      targets: [{ strategy: { mode: 'loadbalance' }, targets: [target('a', up.a, 0.8), target('b', up.b, 0.2)] }, target('c', up.c)],
    },
    failover: { strategy: { mode: 'fallback' }, targets: [target('primary', up.flaky), target('secondary', up.secondary)] },
    slow: target('slow', up.slow),
  };
  return {
    name: 'portkey',
    label: `Portkey gateway ${inst.value.version} (npm @portkey-ai/gateway, --headless)`,
    pid: child.pid,
    child,
    endpoint: (r) => ({ url: `http://127.0.0.1:${port}/v1/chat/completions`, headers: { ...JSON_HEADERS, 'x-portkey-config': JSON.stringify(configs[r]) }, model: 'chat' }),
    stop: () => child.stop(),
    notes: [],
  };
}

export function litellmConfig(up: Upstream): string {
  const m = (name: string, base: string, key: string, extra = ''): string =>
    `  - model_name: ${name}\n    litellm_params: {model: openai/gpt-4o-mini, api_base: "${base}", api_key: sk-bench-${key}, max_retries: 0${extra}}\n`;
  return (
    `# Written by bench/run.ts\n` +
    `model_list:\n` +
    m('chat', up.a, 'a', ', weight: 8') +
    m('chat', up.b, 'b', ', weight: 2') +
    m('chat-backup', up.c, 'c') +
    m('failover', up.flaky, 'primary') +
    m('failover-backup', up.secondary, 'secondary') +
    m('slow', up.slow, 'slow') +
    `router_settings:\n` +
    `  routing_strategy: simple-shuffle\n` +
    `  num_retries: 0\n` +
    `  disable_cooldowns: true\n` +
    `  fallbacks: [{"chat": ["chat-backup"]}, {"failover": ["failover-backup"]}]\n` +
    `litellm_settings:\n` +
    `  num_retries: 0\n` +
    `  request_timeout: 120\n`
  );
}

export async function litellmTarget(up: Upstream, say: (m: string) => void): Promise<Target | { skip: string }> {
  const inst = await ensureLitellm(say);
  if (!inst.ok) return { skip: inst.reason };
  const dir = mkdtempSync(join(tmpdir(), 'llmroute-bench-litellm-'));
  const cfg = join(dir, 'config.yaml');
  writeFileSync(cfg, litellmConfig(up));
  const port = await portForPeer();
  let child: Child;
  try {
    ({ child } = await startChild(
      'litellm',
      inst.value.bin,
      ['--config', cfg, '--host', '127.0.0.1', '--port', String(port), '--num_workers', '1', '--telemetry', 'False'],
      {
        cwd: dir,
        env: sealedEnv({ LITELLM_LOCAL_MODEL_COST_MAP: 'True', LITELLM_TELEMETRY: 'False', PYTHONUNBUFFERED: '1' }),
        readyPoll: () => answers(`http://127.0.0.1:${port}/health/liveliness`),
        readyTimeoutMs: 90_000,
      },
    ));
  } catch (err) {
    return { skip: `LiteLLM ${inst.value.version} did not start: ${(err as Error).message.split('\n')[0]}` };
  }
  return {
    name: 'litellm',
    label: `LiteLLM proxy ${inst.value.version} (PyPI litellm[proxy], 1 worker)`,
    pid: child.pid,
    child,
    endpoint: (r) => ({ url: `http://127.0.0.1:${port}/v1/chat/completions`, headers: JSON_HEADERS, model: r }),
    stop: async () => {
      await child.stop();
      rmSync(dir, { recursive: true, force: true });
    },
    notes: [],
  };
}
