/**
 * Shared tools of the chaos, fuzz and soak suites: what a process holds open
 * (/proc), what the admin port says (/metrics), raw requests to the sidecar
 * with their SSE read back, and small statistics. Linux only (/proc).
 * Everything talks to 127.0.0.1 and nothing else.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { Agent, request, type Dispatcher } from 'undici';
import { parseSSE } from '../fakes/sse.ts';
import { startSidecarProcess, type SidecarProcess, type StartOptions } from '../support/sidecar-process.ts';

// ---------------------------------------------------------------- /proc

/** Open file descriptors of a process. */
export function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** Open file descriptors by kind (socket, pipe, anon_inode, file), for failure messages. */
export function fdKinds(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let kind = 'gone';
    try {
      const link = readlinkSync(`/proc/${pid}/fd/${fd}`);
      kind = link.startsWith('socket:') ? 'socket' : link.startsWith('pipe:') ? 'pipe' : link.startsWith('anon_inode:') ? link : 'file';
    } catch {
      // closed while we looked
    }
    out[kind] = (out[kind] ?? 0) + 1;
  }
  return out;
}

/** Resident set size of a process, in bytes. */
export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

const TCP_LISTEN = '0A';
const TCP_TIME_WAIT = '06';

/**
 * TCP sockets on this host whose local port is `port` and that still hold
 * a descriptor (every state but LISTEN and TIME_WAIT): for a fake
 * provider's port, the connections the sidecar holds open to it.
 */
export function tcpSocketsOnPort(port: number): number {
  let n = 0;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 4) continue;
      const local = cols[1]!;
      const state = cols[3]!;
      const p = parseInt(local.slice(local.lastIndexOf(':') + 1), 16);
      if (p === port && state !== TCP_LISTEN && state !== TCP_TIME_WAIT) n++;
    }
  }
  return n;
}

const TCP_STATES: Record<string, string> = {
  '01': 'ESTABLISHED', '02': 'SYN_SENT', '03': 'SYN_RECV', '04': 'FIN_WAIT1', '05': 'FIN_WAIT2', '06': 'TIME_WAIT',
  '07': 'CLOSE', '08': 'CLOSE_WAIT', '09': 'LAST_ACK', '0A': 'LISTEN', '0B': 'CLOSING',
};

export interface SocketInfo {
  state: string;
  localPort: number;
  remotePort: number;
}

/** The TCP sockets a process holds, by descriptor: state and ports (from /proc/net/tcp and the fd links). */
export function processSockets(pid: number): { tcp: SocketInfo[]; other: number } {
  const byInode = new Map<string, SocketInfo>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10) continue;
      const port = (addr: string): number => parseInt(addr.slice(addr.lastIndexOf(':') + 1), 16);
      byInode.set(cols[9]!, { state: TCP_STATES[cols[3]!] ?? cols[3]!, localPort: port(cols[1]!), remotePort: port(cols[2]!) });
    }
  }
  const tcp: SocketInfo[] = [];
  let other = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let link: string;
    try {
      link = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue;
    }
    const m = /^socket:\[(\d+)\]$/.exec(link);
    if (!m) continue;
    const info = byInode.get(m[1]!);
    if (info) tcp.push(info);
    else other++;
  }
  return { tcp, other };
}

/**
 * A process's descriptors apart from its established connections to `ports`
 * (keep-alive connections pooled to the fake providers, which come and go
 * with the load and expire on their own): what must not grow.
 */
export function fdsBesidesPooled(pid: number, ports: Iterable<number>): { rest: number; pooled: number; closeWait: number } {
  const set = new Set(ports);
  const total = openFds(pid);
  const { tcp } = processSockets(pid);
  const pooled = tcp.filter((x) => x.state === 'ESTABLISHED' && set.has(x.remotePort)).length;
  const closeWait = tcp.filter((x) => x.state === 'CLOSE_WAIT').length;
  return { rest: total - pooled, pooled, closeWait };
}

// ---------------------------------------------------------------- metrics

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export async function scrape(adminURL: string): Promise<Sample[]> {
  const res = await request(`${adminURL}/metrics`);
  const text = await res.body.text();
  return parseMetrics(text);
}

export function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const x of (m[3] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[x[1]!] = x[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[4]) });
  }
  return out;
}

/** Sum of a metric's samples whose labels include `labels`. */
export function metricSum(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const s of samples) {
    if (s.name !== name) continue;
    if (Object.entries(labels).every(([k, v]) => s.labels[k] === v)) sum += s.value;
  }
  return sum;
}

/** Timers (and other resources) the sidecar holds, from prom-client's default metrics. */
export function activeResources(samples: Sample[], type: string): number {
  return metricSum(samples, 'llmroute_process_nodejs_active_resources', { type });
}

// ---------------------------------------------------------------- requests

export interface Answer {
  status: number;
  headers: Record<string, string>;
  text: string;
  /** Set when the connection failed or broke before a full answer: its error code. */
  networkError?: string | undefined;
  ms: number;
}

export interface StreamView {
  /** The content deltas, joined. */
  content: string;
  /** How many `data: [DONE]` events. */
  done: number;
  /** The `data: {"error": ...}` event, if any. */
  error: Record<string, unknown> | undefined;
  /** Events after the error event (there must be none). */
  afterError: number;
  /** Events whose data is neither JSON nor [DONE]. */
  unreadable: number;
  chunks: number;
}

export function readStream(text: string): StreamView {
  const view: StreamView = { content: '', done: 0, error: undefined, afterError: 0, unreadable: 0, chunks: 0 };
  for (const e of parseSSE(text)) {
    if (view.error) view.afterError++;
    if (e.data === '[DONE]') {
      view.done++;
      continue;
    }
    let data: any;
    try {
      data = JSON.parse(e.data);
    } catch {
      view.unreadable++;
      continue;
    }
    if (data && typeof data === 'object' && data.error) {
      view.error = data.error;
      continue;
    }
    view.chunks++;
    for (const c of data?.choices ?? []) view.content += c?.delta?.content ?? '';
  }
  return view;
}

/** Content of a non-stream chat completion, or undefined when the body is not one. */
export function completionContent(text: string): string | undefined {
  try {
    const body = JSON.parse(text);
    const c = body?.choices?.[0]?.message?.content;
    return typeof c === 'string' ? c : undefined;
  } catch {
    return undefined;
  }
}

/** An OpenAI-shaped error body's `error`, or undefined when the body is not one. */
export function errorBody(text: string): { message: string; type: string; code: unknown; param?: unknown; attempts?: unknown } | undefined {
  try {
    const body = JSON.parse(text);
    const e = body?.error;
    if (e && typeof e.message === 'string' && typeof e.type === 'string' && 'code' in e) return e;
  } catch {
    // not JSON
  }
  return undefined;
}

export function flatHeaders(h: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

export interface SendOptions {
  method?: string;
  headers?: Record<string, string>;
  dispatcher?: Dispatcher;
  /** Client-side limit for the whole exchange; default 30 s. */
  timeoutMs?: number;
}

/** One request, read to the end; network failures come back as `networkError`, never as a throw. */
export async function send(url: string, body: string | Buffer | undefined, o: SendOptions = {}): Promise<Answer> {
  const started = performance.now();
  const signal = AbortSignal.timeout(o.timeoutMs ?? 30_000);
  let status = 0;
  let headers: Record<string, string> = {};
  const chunks: Buffer[] = [];
  try {
    const res = await request(url, {
      method: (o.method ?? (body === undefined ? 'GET' : 'POST')) as Dispatcher.HttpMethod,
      headers: { 'content-type': 'application/json', ...o.headers },
      body,
      signal,
      ...(o.dispatcher ? { dispatcher: o.dispatcher } : {}),
    });
    status = res.statusCode;
    headers = flatHeaders(res.headers);
    for await (const c of res.body) chunks.push(c as Buffer);
    return { status, headers, text: Buffer.concat(chunks).toString('utf8'), ms: performance.now() - started };
  } catch (err) {
    const code = signal.aborted ? 'CLIENT_TIMEOUT' : ((err as { code?: string }).code ?? (err as Error).name ?? 'ERROR');
    return { status, headers, text: Buffer.concat(chunks).toString('utf8'), networkError: code, ms: performance.now() - started };
  }
}

export function chatBody(model: string, stream: boolean, content = 'hi', extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ model, stream, messages: [{ role: 'user', content }], ...extra });
}

/** A keep-alive agent for one suite; destroy it in afterAll. */
export function clientAgent(connections = 16): Agent {
  return new Agent({ connections, keepAliveTimeout: 4_000, pipelining: 1 });
}

// ---------------------------------------------------------------- processes

/**
 * Starts the sidecar like startSidecarProcess, but at any log level: at warn
 * and error the "listening" line is not printed, so the ports it bound are
 * read from its listen probe, and the admin port is the one that answers
 * /healthz. Kills the child when it does not come up.
 */
export async function startSidecarAt(configYaml: string, logLevel: 'debug' | 'info' | 'warn' | 'error', o: StartOptions = {}): Promise<SidecarProcess> {
  const sp = await startSidecarProcess(configYaml, { ...o, waitReady: false, args: [...(o.args ?? []), '--log-level', logLevel] });
  const healthy = async (port: number): Promise<boolean> => {
    const res = await request(`http://127.0.0.1:${port}/healthz`);
    await res.body.dump();
    return res.statusCode === 200;
  };
  try {
    const exitedEarly = sp.exited.then((code) => Promise.reject(new Error(`it exited with ${code}`)));
    const [first, second] = (await Promise.race([sp.boundPorts(2), exitedEarly])) as [number, number];
    const adminPort = (await healthy(second)) ? second : (await healthy(first)) ? first : undefined;
    if (adminPort === undefined) throw new Error(`neither of its ports ${first}, ${second} answers /healthz`);
    const apiPort = adminPort === first ? second : first;
    return Object.assign(sp, { apiPort, adminURL: `http://127.0.0.1:${adminPort}`, baseURL: `http://127.0.0.1:${apiPort}/v1` });
  } catch (err) {
    sp.child.kill('SIGKILL');
    throw new Error(`sidecar did not come up (${(err as Error).message}):\n${sp.stdout()}\n${sp.stderr()}`);
  }
}

// ---------------------------------------------------------------- waiting and numbers

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Polls `value` until it stops falling: returns the lowest reading once it
 * has held for `stableMs`, or at `timeoutMs`.
 */
export async function settle(value: () => number | Promise<number>, stableMs = 600, timeoutMs = 8_000, intervalMs = 100): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let low = await value();
  let since = Date.now();
  while (Date.now() < deadline) {
    await sleep(intervalMs);
    const v = await value();
    if (v < low) {
      low = v;
      since = Date.now();
    } else if (Date.now() - since >= stableMs) break;
  }
  return low;
}

/** Polls until `cond` holds or the time is up; returns whether it held. */
export async function until(cond: () => boolean | Promise<boolean>, timeoutMs: number, intervalMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return true;
    if (Date.now() > deadline) return false;
    await sleep(intervalMs);
  }
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = Float64Array.from(values).sort();
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export const round = (n: number, digits = 1): number => Math.round(n * 10 ** digits) / 10 ** digits;
