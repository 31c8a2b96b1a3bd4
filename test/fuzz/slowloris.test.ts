/**
 * Slowloris against the sidecar's API server: clients that dribble their
 * headers a byte at a time are cut off by the server's header timeout (not
 * before it), with a 400 or 408 or nothing; clients dribbling a body are
 * left to requestTimeout (bad-input.test.ts's long form waits for that);
 * and the server keeps answering, with no unexpected error logged.
 *
 * The sidecar runs in this process (startSidecar), with the header timeout
 * at 2 s checked every 250 ms: at its defaults, 20 s checked on Node's
 * 30 s connection-check interval, the same cut took up to 55 s to see. The
 * defaults themselves are pinned by the first test.
 */
import { ResponseStores } from '../../sidecar/src/surfaces/response-stores.ts';
import { realClock } from '../../common/clock.ts';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApiServer } from '../../sidecar/src/api-server.ts';
import { loadConfig } from '../../sidecar/src/config/load-config.ts';
import { createLogger } from '../../common/log.ts';
import { adapterFor } from '../../sidecar/src/providers/index.ts';
import { SILENT_OBSERVER } from '../../sidecar/src/request-observer.ts';
import { startSidecar, type Sidecar } from '../../sidecar/src/sidecar.ts';
import { HealthRegistry } from '../../sidecar/src/target-health.ts';
import { startFakeProvider, type FakeProvider } from '../fakes/fake-provider.ts';
import { round, send, until } from '../chaos/harness.ts';
import { closeLorises, loris, replies, type Loris } from './loris.ts';

const HEADERS_TIMEOUT_MS = 2_000;
const CHECK_EVERY_MS = 250;
/** The dribblers send a byte this often: several before the cut, none of which buys more time. */
const DRIBBLE_MS = 200;

let fake: FakeProvider;
let sidecar: Sidecar;
let api: string;
const logs: Array<Record<string, unknown>> = [];
const headerLoris: Loris[] = [];
const bodyLoris: Loris[] = [];

beforeAll(async () => {
  fake = await startFakeProvider({ flavor: 'openai', name: 'openai' });
  const dir = mkdtempSync(join(tmpdir(), 'llmroute-slowloris-'));
  const configPath = join(dir, 'config.yaml');
  writeFileSync(configPath, `routes:\n- name: fuzz\n  targets:\n  - {name: openai, provider: openai, baseURL: "${fake.url}", model: gpt-4o-mini, apiKey: {value: sk-slowloris-0123456789}}\n`);
  sidecar = await startSidecar({
    configPath,
    initial: loadConfig(configPath),
    log: createLogger('info', (line) => logs.push(JSON.parse(line) as Record<string, unknown>)),
    host: '127.0.0.1',
    port: 0,
    adminHost: '127.0.0.1',
    adminPort: 0,
    headersTimeoutMs: HEADERS_TIMEOUT_MS,
    connectionsCheckingIntervalMs: CHECK_EVERY_MS,
  });
  api = `http://127.0.0.1:${sidecar.apiAddress.port}`;
});

afterAll(async () => {
  closeLorises([...headerLoris, ...bodyLoris]);
  await sidecar?.close();
  await fake?.close();
});

const chat = (): Promise<{ status: number }> => send(`${api}/v1/chat/completions`, JSON.stringify({ model: 'fuzz', messages: [{ role: 'user', content: 'hi' }] }));

describe('slowloris', () => {
  it("the sidecar's defaults: 20 s for the headers, checked every 30 s (Node's), 120 s for the whole request", () => {
    const deps = { config: () => sidecar.current(), observer: SILENT_OBSERVER, isDraining: () => false, health: new HealthRegistry(), adapterFor, responseStores: new ResponseStores(realClock) };
    // (node:http keeps connectionsCheckingInterval on the server; @types/node does not declare it)
    const timeouts = (s: Server & { connectionsCheckingInterval?: number }) => [s.headersTimeout, s.connectionsCheckingInterval, s.requestTimeout];
    const byDefault = timeouts(createApiServer(deps).server);
    const set = timeouts(createApiServer({ ...deps, headersTimeoutMs: HEADERS_TIMEOUT_MS, connectionsCheckingIntervalMs: CHECK_EVERY_MS }).server);
    expect(byDefault).toEqual([20_000, 30_000, 120_000]);
    expect(set).toEqual([HEADERS_TIMEOUT_MS, CHECK_EVERY_MS, 120_000]);
  });

  it('cuts the header dribblers off with the header timeout, not before it; leaves the body dribblers; keeps answering', async () => {
    for (let i = 0; i < 30; i++) headerLoris.push(loris(sidecar.apiAddress.port, 'headers', DRIBBLE_MS));
    for (let i = 0; i < 30; i++) bodyLoris.push(loris(sidecar.apiAddress.port, 'body', DRIBBLE_MS));
    // answered while they dribble
    expect((await chat()).status).toBe(200);
    const cut = await until(() => headerLoris.every((l) => l.closedAt !== undefined), HEADERS_TIMEOUT_MS + CHECK_EVERY_MS + 5_000);
    const times = headerLoris.map((l) => (l.closedAt ?? Date.now()) - l.openedAt);
    console.log(`header slowloris cut after ${round(Math.min(...times) / 1000)}–${round(Math.max(...times) / 1000)} s (timeout ${HEADERS_TIMEOUT_MS / 1000} s); replies: ${replies(headerLoris)}`);
    expect(cut).toBe(true);
    // cut by the header timeout, not before it (as 19 s of 20 s were, at the defaults)
    expect(Math.min(...times)).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS * 0.95);
    for (const l of headerLoris) expect(l.reply === '' || /^HTTP\/1\.1 (400|408) /.test(l.reply)).toBe(true);
    // the body dribblers sent their headers: the header timeout is not theirs
    expect(bodyLoris.filter((l) => l.closedAt !== undefined)).toEqual([]);
    // still answering, nothing unexpected
    expect((await send(`http://127.0.0.1:${sidecar.adminAddress.port}/healthz`, undefined)).status).toBe(200);
    expect((await chat()).status).toBe(200);
    expect(fake.counts.requests).toBe(2);
    expect(logs.filter((l) => l.level === 'error' || l.msg === 'unexpected error while serving a request')).toEqual([]);
  });
});
