/**
 * npm run demo: failover in a few seconds, with no keys and no network.
 *
 * Starts two simulated providers on 127.0.0.1 (an OpenAI-style "primary"
 * that we break on purpose, and an Anthropic-style "backup"), runs the real
 * sidecar in front of them, and sends traffic with the official openai SDK,
 * printing which target served each request and why.
 */
import OpenAI from 'openai';
import { startFakeProvider, type Behaviour } from '../../test/fakes/fake-provider.ts';
import { startSidecarProcess } from '../../test/support/sidecar-process.ts';

const bold = (s: string) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const dim = (s: string) => (process.stdout.isTTY ? `\x1b[2m${s}\x1b[0m` : s);

async function main(): Promise<void> {
  const primary = await startFakeProvider({ flavor: 'openai', name: 'primary', text: 'Hello from the primary (OpenAI API)', chunks: 6, thinkMs: 20 });
  const backup = await startFakeProvider({ flavor: 'anthropic', name: 'backup', text: 'Hello from the backup (Anthropic API)', chunks: 6, thinkMs: 30 });
  const sidecar = await startSidecarProcess(`
routes:
- name: chat
  targets:
  - {name: primary, provider: openai, baseURL: "${primary.url}", model: gpt-4o-mini, apiKey: {value: demo-key-1}}
  - {name: backup, provider: anthropic, baseURL: "${backup.url}", model: claude-sonnet-4-5, priority: 1, apiKey: {value: demo-key-2}}
  retry: {attempts: 1, backoff: {initial: 50ms, max: 200ms}, retryAfterCap: 500ms}
  timeouts: {connect: 500ms, firstByte: 1s, idle: 1s, total: 10s}
  circuitBreaker: {consecutiveFailures: 3, openFor: 2s}
`);
  const client = new OpenAI({ baseURL: sidecar.baseURL, apiKey: 'any', maxRetries: 0 });
  console.log(bold(`llmroute demo: sidecar on ${sidecar.baseURL}, primary ${primary.url}, backup ${backup.url}\n`));

  let n = 0;
  const send = async (behaviour: Behaviour | undefined, stream = false): Promise<void> => {
    n++;
    primary.setBehaviour(behaviour);
    const logStart = sidecar.logs.length;
    const started = performance.now();
    let text = '';
    let headers: Headers;
    try {
      if (stream) {
        const r = await client.chat.completions.create({ model: 'chat', stream: true, messages: [{ role: 'user', content: 'hi' }] }).withResponse();
        for await (const c of r.data) text += c.choices[0]?.delta?.content ?? '';
        headers = r.response.headers;
      } else {
        const r = await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
        text = r.data.choices[0]!.message.content ?? '';
        headers = r.response.headers;
      }
    } catch (err) {
      console.log(`#${String(n).padStart(2, '0')} failed: ${(err as Error).message}`);
      return;
    }
    const ms = Math.round(performance.now() - started);
    await new Promise((r) => setTimeout(r, 10)); // let the sidecar's log lines arrive
    const why = sidecar.logs
      .slice(logStart)
      .filter((l) => l.msg === 'upstream attempt failed' || l.msg === 'circuit state changed' || l.msg === 'target cooling down after a rate limit')
      .map((l) => (l.msg === 'circuit state changed' ? `circuit ${l.target}: ${l.state}` : l.msg === 'upstream attempt failed' ? `${l.target}: ${l.class}${l.status ? ` ${l.status}` : ''}` : `${l.target} cools down ${l.ms} ms`));
    const target = headers.get('x-llmroute-target');
    console.log(
      `#${String(n).padStart(2, '0')} ${stream ? 'stream' : 'json  '} → ${bold(String(target).padEnd(7))} attempts=${headers.get('x-llmroute-attempts')} fallbacks=${headers.get('x-llmroute-fallbacks')} ${String(ms).padStart(4)} ms  "${text}"` +
        (why.length ? dim(`   ← ${why.join('; ')}`) : ''),
    );
  };

  console.log(bold('1. All healthy: the primary serves.'));
  for (let i = 0; i < 3; i++) await send(undefined);

  console.log(bold('\n2. The primary starts answering 503: each request retries once, then fails over to the backup invisibly.'));
  await send({ kind: 'status', status: 503 });
  await send({ kind: 'status', status: 503 });
  console.log(bold('   Three failures in a row opened its circuit: requests go straight to the backup, no wasted tries.'));
  for (let i = 0; i < 3; i++) await send({ kind: 'status', status: 503 });

  console.log(bold('\n3. The primary recovers. After openFor (2 s) one probe goes through and closes the circuit.'));
  await new Promise((r) => setTimeout(r, 2100));
  for (let i = 0; i < 2; i++) await send(undefined);

  console.log(bold('\n4. A stream whose provider dies before the first token: the client never notices.'));
  await send({ kind: 'cut', afterChunks: 0 }, true);

  console.log(bold('\n5. A 429 asking for 30 s (over retryAfterCap): the sidecar moves on at once and cools the primary down.'));
  await send({ kind: 'rate-limit', retryAfter: 30 });
  await send(undefined);

  const metric = async (name: string, labels: Record<string, string> = {}) => sidecar.metric(name, labels);
  console.log(bold('\nWhat /metrics says:'));
  console.log(`  llmroute_requests_total{route="chat"}            ${await metric('llmroute_requests_total', { route: 'chat' })}`);
  console.log(`  llmroute_fallbacks_total{from="primary"}         ${await metric('llmroute_fallbacks_total', { from: 'primary' })}`);
  console.log(`  llmroute_upstream_attempts_total{target="primary"} ${await metric('llmroute_upstream_attempts_total', { target: 'primary' })}`);
  console.log(`  requests the primary actually received          ${primary.counts.requests}`);
  console.log(dim(`\nFull metrics: ${sidecar.adminURL}/metrics (while it runs). Try it yourself: npm start with examples/local.yaml.`));

  await sidecar.stop();
  await Promise.all([primary.close(), backup.close()]);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
