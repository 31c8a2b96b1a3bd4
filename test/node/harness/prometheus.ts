// A real Prometheus (Debian's /usr/bin/prometheus, hack/debian-packages.txt) for the node suite, run
// inside the node's network namespace so it reaches the pods' IPs, with its own config, rules file and
// storage under a temp folder, never the packaged service. Its HTTP API is reached with curl inside
// the namespace too (its address, the namespace's 127.0.0.1, is not reachable from outside).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { inNetns, pollUntil } from './node-cluster.ts';

export const PROMETHEUS = '/usr/bin/prometheus';
export const PROMTOOL = '/usr/bin/promtool';

export interface RunningPrometheus {
  url: string;
  proc: ChildProcess;
  dir: string;
  logFile: string;
  /** GET an API path (`/api/v1/query`, …) with query parameters; resolves with the `data` of a success, rejects otherwise. */
  api<T = any>(apiPath: string, params?: Record<string, string>): Promise<T>;
  stop(): Promise<void>;
}

/** A port nothing listens on inside the namespace (taken by binding port 0 there, then let go). */
function freePortIn(netns: string | undefined): number {
  const script = "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})";
  const argv = inNetns(netns, [process.execPath, '-e', script]);
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 20_000 });
  const port = Number(r.stdout.trim());
  if (r.status !== 0 || !Number.isInteger(port) || port <= 0) throw new Error(`no free port in the node's namespace: ${r.stderr}`);
  return port;
}

/** curl inside the namespace: the body of a 2xx, or a rejection with the status and body. */
function curlIn(netns: string | undefined, url: string, timeoutMs = 20_000): Promise<string> {
  const argv = inNetns(netns, ['curl', '-sS', '--max-time', String(Math.ceil(timeoutMs / 1000)), '-w', '\n%{http_code}', url]);
  return new Promise((resolve, reject) => {
    const p = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => {
      const nl = out.lastIndexOf('\n');
      const status = Number(out.slice(nl + 1));
      const body = out.slice(0, nl);
      if (code === 0 && status >= 200 && status < 300) resolve(body);
      else reject(new Error(`GET ${url}: curl ${code}, HTTP ${status}: ${(body || err).trim().slice(0, 1000)}`));
    });
  });
}

export interface PrometheusFiles {
  config: Record<string, unknown>;
  rules?: Record<string, unknown>;
}

/**
 * Writes `prometheus.yml` (and `rules.yaml`, referenced from it) into `dir`, starts Prometheus in the
 * namespace on a free port of its loopback with storage in `dir/data`, and resolves once /-/ready answers.
 */
export async function startPrometheus(netns: string | undefined, dir: string, files: PrometheusFiles, timeoutMs = 60_000): Promise<RunningPrometheus> {
  mkdirSync(path.join(dir, 'data'), { recursive: true });
  const config = { ...files.config };
  if (files.rules) {
    writeFileSync(path.join(dir, 'rules.yaml'), yaml.dump(files.rules, { lineWidth: -1 }));
    config.rule_files = [path.join(dir, 'rules.yaml')];
  }
  const configFile = path.join(dir, 'prometheus.yml');
  writeFileSync(configFile, yaml.dump(config, { lineWidth: -1 }));
  const port = freePortIn(netns);
  const url = `http://127.0.0.1:${port}`;
  const logFile = path.join(dir, 'prometheus.log');
  const log = openSync(logFile, 'a');
  const argv = inNetns(netns, [
    PROMETHEUS,
    `--config.file=${configFile}`,
    `--storage.tsdb.path=${path.join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    // what the packaged service would read: nothing here uses them
    `--web.console.templates=${path.join(dir, 'consoles')}`,
    `--web.console.libraries=${path.join(dir, 'console_libraries')}`,
  ]);
  const proc = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', log, log] });
  closeSync(log);
  const stop = (): Promise<void> =>
    new Promise<void>((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
      const kill = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      proc.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      proc.kill('SIGTERM');
    });
  const api = async <T>(apiPath: string, params: Record<string, string> = {}): Promise<T> => {
    const qs = new URLSearchParams(params).toString();
    const body = JSON.parse(await curlIn(netns, `${url}${apiPath}${qs ? `?${qs}` : ''}`)) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`${apiPath} ${qs}: ${body.error ?? body.status}`);
    return body.data;
  };
  try {
    await pollUntil('prometheus /-/ready', async () => (await curlIn(netns, `${url}/-/ready`, 2_000).then(() => true, () => false)), { timeoutMs, proc, logFile, intervalMs: 200 });
  } catch (e) {
    await stop();
    throw e;
  }
  return { url, proc, dir, logFile, api, stop };
}

/** promtool with `args`, in `cwd`: its exit status and output (never throws on a non-zero exit). */
export function promtool(args: string[], cwd: string): { status: number | null; output: string } {
  const r = spawnSync(PROMTOOL, args, { cwd, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, output: `${r.stdout}${r.stderr}`.trim() };
}
