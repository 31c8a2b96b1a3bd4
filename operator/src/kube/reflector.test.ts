import { createLogger } from '../../../common/log.ts';
import { KubeApiError, KubeTransportError } from '../errors.ts';
import { FakeClock } from '../testing/fake-clock.ts';
import type { WatchEvent } from './kube-client.ts';
import { ObjectStore, type KubeObject } from './object-store.ts';
import { Reflector, type ListWatchSource } from './reflector.ts';

const o = (name: string, rv: string): KubeObject => ({ metadata: { name, namespace: 'ns', resourceVersion: rv } });
const gone = () => new KubeApiError({ status: 410, reason: 'Expired', message: 'too old resource version', method: 'WATCH', path: '/x' });
const refused = () => new KubeTransportError('GET', '/x', new Error('connect ECONNREFUSED'));

type Step = (onEvent: (e: WatchEvent<KubeObject>) => void) => Promise<void>;

/** A source whose lists and watches play a script; it records what was asked. */
function scripted(lists: Array<KubeObject[] | Error>, watches: Step[]) {
  const calls: string[] = [];
  let l = 0;
  let w = 0;
  const source: ListWatchSource<KubeObject> = {
    async list() {
      const next = lists[Math.min(l++, lists.length - 1)]!;
      calls.push('list');
      if (next instanceof Error) throw next;
      return { items: next, resourceVersion: String(10 * l) };
    },
    async watch(rv, onEvent, signal) {
      calls.push(`watch@${rv}`);
      const step = watches[w++];
      if (!step) {
        await new Promise((r) => signal.addEventListener('abort', r, { once: true }));
        return;
      }
      await step(onEvent);
    },
  };
  return { source, calls };
}

function run(source: ListWatchSource<KubeObject>) {
  const clock = new FakeClock();
  const changes: string[] = [];
  const store = new ObjectStore<KubeObject>((b, a) => changes.push(`${a ? (b ? 'update' : 'add') : 'delete'} ${(a ?? b)!.metadata.name}`));
  const relists: string[] = [];
  const r = new Reflector(
    source,
    { replace: (items) => store.replace(undefined, items), upsert: (x) => store.upsert(x), remove: (x) => store.remove(x) },
    { name: 'test', log: createLogger('error', () => {}), backoff: { baseMs: 5, maxMs: 20 }, minWatchMs: 0, onRelist: (why) => relists.push(why), clock },
  );
  r.start();
  return { r, store, changes, relists, clock };
}

describe('Reflector', () => {
  it('lists, then watches from the list and from each event; a watch that ends is reopened, not relisted', async () => {
    const { source, calls } = scripted(
      [[o('a', '1')]],
      [
        async (emit) => {
          emit({ type: 'ADDED', object: o('b', '11') });
          emit({ type: 'BOOKMARK', object: o('', '15') });
        },
        async (emit) => emit({ type: 'DELETED', object: o('a', '16') }),
      ],
    );
    const { r, store, changes, clock } = run(source);
    await r.whenSynced();
    await clock.advance(30);
    await r.stop();
    expect(calls).toEqual(['list', 'watch@10', 'watch@15', 'watch@16']);
    expect(changes).toEqual(['add a', 'add b', 'delete a']);
    expect(store.list().map((x) => x.metadata.name)).toEqual(['b']);
  });

  it('relists at once on 410 Gone, and reports what was deleted meanwhile', async () => {
    const { source, calls } = scripted([[o('a', '1'), o('b', '1')], [o('b', '2'), o('c', '3')]], [async () => Promise.reject(gone())]);
    const { r, changes, relists, clock } = run(source);
    await clock.advance(30);
    await r.stop();
    expect(calls).toEqual(['list', 'watch@10', 'list', 'watch@20']);
    expect(relists).toEqual(['expired']);
    expect(changes).toEqual(['add a', 'add b', 'delete a', 'update b', 'add c']);
  });

  it('retries a failing list with backoff until it works', async () => {
    const { source, calls } = scripted([refused(), refused(), [o('a', '1')]], []);
    const { r, clock } = run(source);
    // Backoff 5 ms, then 10 ms.
    await clock.advance(15);
    expect(r.synced).toBe(true);
    await r.whenSynced();
    await r.stop();
    expect(calls).toEqual(['list', 'list', 'list', 'watch@30']);
  });

  it('reopens a failed watch from the same version, and relists after repeated failures', async () => {
    const fail: Step = async () => Promise.reject(refused());
    const { source, calls } = scripted([[o('a', '1')]], [fail, fail, fail]);
    const { r, relists, clock } = run(source);
    await clock.advance(100);
    await r.stop();
    expect(calls).toEqual(['list', 'watch@10', 'watch@10', 'watch@10', 'list', 'watch@20']);
    expect(relists).toEqual(['error']);
  });

  it('stops promptly, even while backing off', async () => {
    const { source } = scripted([refused()], []);
    const { r, clock } = run(source);
    await clock.advance(10);
    expect(clock.pending).toBe(1);
    const t0 = clock.now();
    await r.stop();
    expect(clock.now() - t0).toBeLessThan(50);
    // The backoff was cut short, not waited out.
    expect(clock.pending).toBe(0);
    expect(r.synced).toBe(false);
  });
});
