/**
 * Peak resident memory of the sidecar under the largest requests it takes
 * by default: CONCURRENCY requests at once, each just under the default
 * maxRequestBody (32Mi), vision-shaped (one base64 image in a chat message),
 * through the real sidecar (sidecar/src/cli.ts, with the node flags of its
 * image) to a fake OpenAI. Prints the sidecar's RSS after warm-up and the
 * kernel's high-water mark (VmHWM) after the load: the figure the injected
 * memory limit (operator/src/inject/options.ts) is sized for.
 *
 *   node bench/large-bodies.ts [--concurrency 8] [--rounds 3] [--mib 32]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startFakeProvider } from '../test/fakes/fake-provider.ts';
import { hwmMb, startChild, treeRssMb } from './lib/proc.ts';
import { imageNodeFlags, sidecarListening } from './lib/targets.ts';

const { values } = parseArgs({ options: { concurrency: { type: 'string', default: '8' }, rounds: { type: 'string', default: '3' }, mib: { type: 'string', default: '32' } } });
const concurrency = Math.max(1, Math.min(64, Number(values.concurrency)));
const rounds = Math.max(1, Math.min(20, Number(values.rounds)));
const limitBytes = Math.max(1, Math.min(256, Number(values.mib))) * 1024 * 1024;

const fake = await startFakeProvider({ flavor: 'openai', name: 'upstream', maxRecords: 0, validate: false });
const dir = mkdtempSync(join(tmpdir(), 'llmroute-large-'));
const configPath = join(dir, 'config.yaml');
writeFileSync(
  configPath,
  `routes:\n- name: vision\n  maxRequestBody: ${limitBytes / 1024 / 1024}Mi\n  targets:\n  - {name: openai, provider: openai, baseURL: "${fake.url}", model: gpt-4o, apiKey: {value: sk-bench}}\n`,
);
const flags = imageNodeFlags();
const { child, ready } = await startChild('sidecar', process.execPath, [...flags, fileURLToPath(new URL('../sidecar/src/cli.ts', import.meta.url)), '--config', configPath, '--port', '0', '--admin-port', '0'], {
  readyLine: sidecarListening,
  env: { ...process.env },
});
const url = `http://127.0.0.1:${String((ready as { api: string }).api).split(':').pop()}/v1/chat/completions`;

/** A chat request of exactly `bytes` bytes: the image's base64 fills what the JSON around it leaves. */
function visionBody(bytes: number): Buffer {
  const head = '{"model":"vision","messages":[{"role":"user","content":[{"type":"text","text":"What is in this picture?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,';
  const tail = '"}}]}]}';
  const body = Buffer.alloc(bytes, 0x41);
  body.write(head, 0);
  body.write(tail, bytes - tail.length);
  return body;
}

async function post(body: Buffer): Promise<number> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  await res.arrayBuffer();
  return res.status;
}

const small = visionBody(4096);
for (let i = 0; i < 20; i++) await post(small);
const warm = treeRssMb(child.pid);
const big = visionBody(limitBytes - 1024);
const started = performance.now();
const statuses: number[] = [];
for (let r = 0; r < rounds; r++) statuses.push(...(await Promise.all(Array.from({ length: concurrency }, () => post(big)))));
const seconds = (performance.now() - started) / 1000;
const peak = hwmMb(child.pid);
const after = treeRssMb(child.pid);
const ok = statuses.filter((s) => s === 200).length;

console.log(`node ${process.version}, sidecar flags: ${flags.join(' ') || '(none)'}`);
console.log(`${rounds} rounds × ${concurrency} concurrent requests of ${(big.length / 1024 / 1024).toFixed(2)} MiB (maxRequestBody ${limitBytes / 1024 / 1024}Mi): ${ok}/${statuses.length} answered 200 in ${seconds.toFixed(1)} s`);
console.log(`sidecar RSS: after warm-up ${warm?.toFixed(0)} MB, peak (VmHWM) ${peak?.toFixed(0)} MB, after the load ${after?.toFixed(0)} MB`);
await child.stop();
await fake.close();
rmSync(dir, { recursive: true, force: true });
if (ok !== statuses.length) process.exitCode = 1;
