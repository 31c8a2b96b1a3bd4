/**
 * Runs the real sidecar as a child process for integration tests: writes a
 * config into a temp folder, starts `sidecar/src/cli.ts` on Node 24 with
 * ephemeral ports (--port 0 --admin-port 0), waits for its "listening" log
 * line, and keeps every log line it prints so tests can assert on them (and
 * on what is NOT in them). The ports the kernel gave it are also read from
 * listen-probe.mjs, loaded into the child, for log levels that do not print
 * that line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../sidecar/src/cli.ts', import.meta.url));
const LISTEN_PROBE = fileURLToPath(new URL('./listen-probe.mjs', import.meta.url));

export interface SidecarProcess {
  child: ChildProcess;
  dir: string;
  configPath: string;
  /** http://127.0.0.1:PORT/v1 */
  baseURL: string;
  apiPort: number;
  adminURL: string;
  /** Every stdout line, parsed when it is JSON. */
  logs: Array<Record<string, unknown>>;
  stdout: () => string;
  stderr: () => string;
  /** Replaces config.yaml atomically (write + rename), as an editor or a ConfigMap update would. */
  writeConfig: (yamlText: string) => void;
  metric: (name: string, labels?: Record<string, string>) => Promise<number>;
  waitForLog: (predicate: (line: Record<string, unknown>) => boolean, timeoutMs?: number) => Promise<Record<string, unknown>>;
  /** The first `count` ports the process bound, in the order it bound them, once it has. */
  boundPorts: (count: number, timeoutMs?: number) => Promise<number[]>;
  exited: Promise<number | null>;
  stop: (signal?: NodeJS.Signals) => Promise<number | null>;
}

export interface StartOptions {
  args?: string[];
  env?: NodeJS.ProcessEnv;
  /** Where config.yaml goes; default a new temp folder. */
  dir?: string;
  configPath?: string;
  waitReady?: boolean;
}

export async function startSidecarProcess(configYaml: string | undefined, o: StartOptions = {}): Promise<SidecarProcess> {
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), 'llmroute-it-'));
  const configPath = o.configPath ?? join(dir, 'config.yaml');
  if (configYaml !== undefined) writeFileSync(configPath, configYaml);
  const child = spawn(process.execPath, [`--import=${LISTEN_PROBE}`, CLI, '--config', configPath, '--port', '0', '--admin-port', '0', ...(o.args ?? [])], {
    env: { ...process.env, ...o.env },
    // fd 3: listen-probe.mjs writes a line there for every port the sidecar binds
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const logs: Array<Record<string, unknown>> = [];
  const ports: number[] = [];
  const waiters = new Set<() => void>();
  const onLines = (stream: NodeJS.ReadableStream, onLine: (line: string) => void): void => {
    let partial = '';
    stream.setEncoding('utf8').on('data', (d: string) => {
      if (stream === child.stdout) out += d;
      partial += d;
      let nl;
      while ((nl = partial.indexOf('\n')) !== -1) {
        onLine(partial.slice(0, nl));
        partial = partial.slice(nl + 1);
      }
      for (const w of waiters) w();
    });
  };
  onLines(child.stdout!, (line) => {
    try {
      logs.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      logs.push({ raw: line });
    }
  });
  onLines(child.stdio[3] as NodeJS.ReadableStream, (line) => ports.push((JSON.parse(line) as { port: number }).port));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  /** Resolves with what `found` returns once it returns something, checked on every line the child prints. */
  const waitUntil = <T>(found: () => T | undefined, timeoutMs: number, what: string): Promise<T> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const hit = found();
        if (hit === undefined) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(hit);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no ${what} within ${timeoutMs} ms; stdout:\n${out}\nstderr:\n${err}`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  const waitForLog = (predicate: (l: Record<string, unknown>) => boolean, timeoutMs = 10_000): Promise<Record<string, unknown>> =>
    waitUntil(() => logs.find(predicate), timeoutMs, 'matching log line');
  const boundPorts = (count: number, timeoutMs = 15_000): Promise<number[]> =>
    waitUntil(() => (ports.length >= count ? ports.slice(0, count) : undefined), timeoutMs, `${count} bound ports`);

  let apiPort = 0;
  let adminURL = '';
  if (o.waitReady !== false) {
    const ready = await Promise.race([
      waitForLog((l) => l.msg === 'llmroute sidecar listening', 15_000),
      exited.then((code) => {
        throw new Error(`sidecar exited with ${code} before listening:\n${out}\n${err}`);
      }),
    ]);
    apiPort = Number(String(ready.api).split(':').pop());
    adminURL = `http://127.0.0.1:${String(ready.admin).split(':').pop()}`;
  }

  const sp: SidecarProcess = {
    child,
    dir,
    configPath,
    baseURL: `http://127.0.0.1:${apiPort}/v1`,
    apiPort,
    adminURL,
    logs,
    stdout: () => out,
    stderr: () => err,
    writeConfig: (text) => {
      const tmp = `${configPath}.tmp-${process.pid}`;
      writeFileSync(tmp, text);
      renameSync(tmp, configPath);
    },
    metric: async (name, labels = {}) => {
      const text = await (await fetch(`${adminURL}/metrics`)).text();
      let sum = 0;
      for (const line of text.split('\n')) {
        if (!line.startsWith(name)) continue;
        const m = /^([a-zA-Z_:]+)(\{(.*)\})? (.+)$/.exec(line);
        if (!m || m[1] !== name) continue;
        const have = Object.fromEntries([...(m[3] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
        if (Object.entries(labels).every(([k, v]) => have[k] === v)) sum += Number(m[4]);
      }
      return sum;
    },
    waitForLog,
    boundPorts,
    exited,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 35_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
  return sp;
}

/** Polls until fn returns a truthy value. */
export async function eventually<T>(fn: () => Promise<T> | T, timeoutMs = 5000, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      last = v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
