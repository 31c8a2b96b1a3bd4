/**
 * Summarises a V8 .cpuprofile (node --cpu-prof) as text: where the time
 * went, by function (self time), by package or file, and the sidecar's own
 * functions with the time spent under them (inclusive).
 *
 *   node bench/profile-top.ts bench/results/profiles/CPU.*.cpuprofile [--top 25]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' } } });
if (positionals.length === 0) {
  process.stderr.write('usage: node bench/profile-top.ts FILE.cpuprofile [--top N]\n');
  process.exit(2);
}
const top = Number(values.top);

function shortUrl(url: string): string {
  if (!url) return '';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm !== -1) return url.slice(nm + '/node_modules/'.length);
  const i = url.search(/\/(sidecar|api|bench|test)\//);
  if (i !== -1) return url.slice(i + 1);
  return url.replace(/^file:\/\//, '');
}

/** A package name, a project folder, node's internals or V8 ("(garbage collector)", "(program)", "(idle)"). */
function bucket(n: ProfileNode): string {
  const { url, functionName } = n.callFrame;
  if (!url) return functionName.startsWith('(') ? functionName : '(native / V8 builtins)';
  if (url.startsWith('node:')) return url.replace(/^node:internal\/(deps\/)?/, 'node:').split('/').slice(0, 2).join('/');
  const nm = url.lastIndexOf('/node_modules/');
  if (nm !== -1) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  return shortUrl(url);
}

const ms = (us: number): string => (us / 1000).toFixed(1).padStart(9);
const pct = (us: number, total: number): string => `${((100 * us) / total).toFixed(1)}%`.padStart(7);

for (const file of positionals) {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map<number, ProfileNode>();
  for (const n of p.nodes) byId.set(n.id, n);
  const self = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i + 1] ?? 0;
    self.set(p.samples[i]!, (self.get(p.samples[i]!) ?? 0) + dt);
  }
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const total = p.endTime - p.startTime;
  const idle = [...self].filter(([id]) => byId.get(id)!.callFrame.functionName === '(idle)').reduce((s, [, v]) => s + v, 0);
  const busy = total - idle;

  const key = (n: ProfileNode): string => {
    const { functionName, url, lineNumber } = n.callFrame;
    return `${functionName || '(anonymous)'}  ${shortUrl(url)}${url ? `:${lineNumber + 1}` : ''}`;
  };
  const selfBy = new Map<string, number>();
  const bucketBy = new Map<string, number>();
  for (const [id, us] of self) {
    const n = byId.get(id)!;
    if (n.callFrame.functionName === '(idle)') continue;
    selfBy.set(key(n), (selfBy.get(key(n)) ?? 0) + us);
    bucketBy.set(bucket(n), (bucketBy.get(bucket(n)) ?? 0) + us);
  }
  // Inclusive time of the project's own functions: each sample counted once per distinct function on its stack.
  const incl = new Map<string, number>();
  for (const [id, us] of self) {
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const n = byId.get(cur)!;
      if (!/\/(sidecar|api)\//.test(n.callFrame.url)) continue;
      const k = key(n);
      if (seen.has(k)) continue;
      seen.add(k);
      incl.set(k, (incl.get(k) ?? 0) + us);
    }
  }

  const out: string[] = [];
  out.push(`${file}`, `  ${(total / 1e6).toFixed(1)} s profiled, ${(busy / 1e6).toFixed(1)} s busy (${pct(busy, total).trim()}), ${p.samples.length} samples`, '');
  out.push('Self time by package / file (% of busy time)');
  for (const [k, us] of [...bucketBy].sort((a, b) => b[1] - a[1]).slice(0, 15)) out.push(`${ms(us)} ms ${pct(us, busy)}  ${k}`);
  out.push('', `Top ${top} functions by self time`);
  for (const [k, us] of [...selfBy].sort((a, b) => b[1] - a[1]).slice(0, top)) out.push(`${ms(us)} ms ${pct(us, busy)}  ${k}`);
  out.push('', 'The sidecar\'s own functions, inclusive of what they call');
  for (const [k, us] of [...incl].sort((a, b) => b[1] - a[1]).slice(0, top)) out.push(`${ms(us)} ms ${pct(us, busy)}  ${k}`);
  process.stdout.write(out.join('\n') + '\n\n');
}
