/**
 * A/B of a sidecar change: CPU µs per request of the working tree's sidecar
 * against the same sources at a git ref (default HEAD), next to the floor,
 * in alternating rounds. CPU per request is the steadiest number on a
 * shared machine; this is how bench/README.md's before/after table was made.
 *
 *   node bench/ab.ts [--ref HEAD] [--stream] [--rounds 4] [--seconds 3]
 *
 * The ref's tree is exported to a temp folder (sidecar/src, api, common,
 * package.json); node_modules resolve from the repository.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { startChild, treeCpuSeconds } from './lib/proc.ts';
import { floorTarget, sidecarTarget, type Target, type Upstream } from './lib/targets.ts';
import { requestBody } from './lib/scenarios.ts';
import { median } from './lib/stats.ts';

const { values } = parseArgs({
  options: {
    ref: { type: 'string', default: 'HEAD' },
    stream: { type: 'boolean', default: false },
    rounds: { type: 'string', default: '4' },
    seconds: { type: 'string', default: '3' },
  },
});
const REPO = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
const rounds = Math.max(1, Math.min(20, Number(values.rounds)));
const seconds = Math.max(0.5, Math.min(60, Number(values.seconds)));

// Export the ref's sources (git archive | tar) into a temp folder.
const dir = mkdtempSync(join(tmpdir(), 'llmroute-ab-'));
const paths = ['sidecar/src', 'api', 'package.json', ...(execFileSync('git', ['ls-tree', '--name-only', values.ref, 'common'], { cwd: REPO, encoding: 'utf8' }).trim() ? ['common'] : [])];
execFileSync('sh', ['-c', `git archive ${JSON.stringify(values.ref)} ${paths.join(' ')} | tar -x -C ${JSON.stringify(dir)}`], { cwd: REPO });
execFileSync('ln', ['-s', join(REPO, 'node_modules'), join(dir, 'node_modules')]);

const { child, ready } = await startChild('upstream', process.execPath, [join(REPO, 'bench', 'servers', 'upstream.ts')], {
  readyLine: (l) => {
    try {
      return (JSON.parse(l) as { upstream?: Upstream }).upstream;
    } catch {
      return undefined;
    }
  },
});
const up = ready as Upstream;
const targets: Array<[string, Target]> = [
  ['floor', await floorTarget(up)],
  [values.ref, await sidecarTarget(up, { cli: join(dir, 'sidecar', 'src', 'cli.ts') })],
  ['working tree', await sidecarTarget(up)],
];

async function run(t: Target, connections: number, secs: number): Promise<number> {
  const ep = t.endpoint('chat')!;
  const c0 = treeCpuSeconds(t.pid!)!;
  const r = await autocannon({ url: ep.url, method: 'POST', headers: ep.headers, body: requestBody(ep.model, values.stream), connections, duration: secs });
  return ((treeCpuSeconds(t.pid!)! - c0) * 1e6) / Math.max(1, r.requests.total);
}

try {
  for (const [, t] of targets) {
    await run(t, 64, 1);
    await run(t, 1, 1);
  }
  const cpu: Record<string, number[]> = {};
  for (let round = 0; round < rounds; round++) {
    for (const [name, t] of round % 2 ? [...targets].reverse() : targets) {
      for (const c of [1, 64]) (cpu[`${name}  c${c}`] ??= []).push(await run(t, c, seconds));
    }
  }
  process.stdout.write(`CPU µs per ${values.stream ? 'stream' : 'request'}, median of ${rounds} rounds of ${seconds} s\n`);
  for (const [k, v] of Object.entries(cpu)) process.stdout.write(`${k.padEnd(24)} ${median(v).toFixed(1).padStart(7)}   [${v.map((x) => x.toFixed(0)).join(' ')}]\n`);
} finally {
  for (const [, t] of targets) await t.stop();
  await child.stop();
  rmSync(dir, { recursive: true, force: true });
}
