import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { KubeConfig } from '@kubernetes/client-node';
import { createLogger } from '../../../common/log.ts';
import { ObjectStore, type KubeObject } from './object-store.ts';
import { Reflector } from './reflector.ts';
import { KubeApiError } from '../errors.ts';
import { KubeClient, type WatchEvent } from './kube-client.ts';
import { kubeListWatch } from './kube-list-watch.ts';

type Handler = (req: http.IncomingMessage, url: URL, res: http.ServerResponse) => void;

async function fakeApi(handler: Handler) {
  const seen: Array<{ method: string; url: URL; auth: string | undefined; type: string | undefined; body: string }> = [];
  const server = http.createServer(async (req, res) => {
    let body = '';
    for await (const c of req) body += c;
    const url = new URL(req.url!, 'http://x');
    seen.push({ method: req.method!, url, auth: req.headers.authorization, type: req.headers['content-type'], body });
    handler(req, url, res);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }],
    users: [{ name: 'u', token: 'tok-123' }],
    contexts: [{ name: 'ctx', cluster: 'c', user: 'u' }],
    currentContext: 'ctx',
  });
  const client = new KubeClient(kc);
  return {
    client,
    seen,
    close: async () => {
      client.close();
      server.closeAllConnections();
      server.close();
    },
  };
}

const json = (res: http.ServerResponse, status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
const status = (code: number, reason: string, message: string, causes: string[] = []) => ({
  kind: 'Status',
  status: 'Failure',
  code,
  reason,
  message,
  details: { causes: causes.map((r) => ({ reason: r })) },
});

describe('KubeClient', () => {
  it('sends the credentials, query and body, and parses JSON', async () => {
    const api = await fakeApi((_req, _url, res) => json(res, 200, { ok: true }));
    try {
      const out = await api.client.request('PATCH', '/api/v1/namespaces/a/configmaps/b', {
        query: { fieldManager: 'm', force: true, skip: undefined },
        contentType: 'application/apply-patch+yaml',
        body: { a: 1 },
      });
      expect(out).toEqual({ ok: true });
      const s = api.seen[0]!;
      expect(s.auth).toBe('Bearer tok-123');
      expect(s.type).toBe('application/apply-patch+yaml');
      expect(s.url.search).toBe('?fieldManager=m&force=true');
      expect(JSON.parse(s.body)).toEqual({ a: 1 });
    } finally {
      await api.close();
    }
  });

  it('turns a Status into a KubeApiError with reason and causes', async () => {
    const api = await fakeApi((_req, _url, res) =>
      json(res, 403, status(403, 'Forbidden', 'unable to create new content in namespace x because it is being terminated', ['NamespaceTerminating'])),
    );
    try {
      const err = (await api.client.request('POST', '/api/v1/namespaces/x/events', { body: {} }).catch((e: unknown) => e)) as KubeApiError;
      expect(err).toBeInstanceOf(KubeApiError);
      expect(err).toMatchObject({ status: 403, reason: 'Forbidden', code: 'kube_api' });
      expect(err.namespaceTerminating).toBe(true);
      expect(err.notFound).toBe(false);
    } finally {
      await api.close();
    }
  });

  it('streams watch events split across chunks, and fails on an ERROR event (410 = expired)', async () => {
    const api = await fakeApi((_req, _url, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const line1 = JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'a', resourceVersion: '2' } } }) + '\n';
      // The rest goes once the first piece has been sent on its own.
      res.write(line1.slice(0, 10), () => {
        res.write(line1.slice(10) + JSON.stringify({ type: 'ERROR', object: status(410, 'Expired', 'too old resource version: 1 (5)') }) + '\n');
      });
    });
    try {
      const events: WatchEvent[] = [];
      const err = (await api.client.watch('/api/v1/secrets', { resourceVersion: '1' }, (e) => events.push(e), new AbortController().signal).catch((e: unknown) => e)) as KubeApiError;
      expect(events).toEqual([{ type: 'ADDED', object: { metadata: { name: 'a', resourceVersion: '2' } } }]);
      expect(err.expired).toBe(true);
      expect(api.seen[0]!.url.searchParams.get('watch')).toBe('true');
    } finally {
      await api.close();
    }
  });

  it('ends a watch quietly when the signal aborts', async () => {
    const api = await fakeApi((_req, _url, res) => res.writeHead(200).write(JSON.stringify({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '1' } } }) + '\n'));
    try {
      const ac = new AbortController();
      // Aborted while the stream is open: on its first event.
      const p = api.client.watch('/x', {}, () => ac.abort(), ac.signal);
      await expect(p).resolves.toBeUndefined();
    } finally {
      await api.close();
    }
  });
});

describe('kubeListWatch + Reflector over HTTP', () => {
  it('pages through a list, watches, and relists after 410 Gone', async () => {
    let lists = 0;
    let watches = 0;
    let secondWatch!: () => void;
    const secondWatchOpened = new Promise<void>((resolve) => (secondWatch = resolve));
    const item = (name: string, rv: string) => ({ metadata: { name, namespace: 'ns', resourceVersion: rv }, data: { k: 'dg==' }, extra: 'dropped' });
    const api = await fakeApi((_req, url, res) => {
      if (url.searchParams.get('watch') === 'true') {
        watches++;
        res.writeHead(200, { 'content-type': 'application/json' });
        if (watches === 1) {
          res.end(JSON.stringify({ type: 'ERROR', object: status(410, 'Expired', 'too old') }) + '\n');
        }
        if (watches === 2) secondWatch();
        return; // the second watch stays open
      }
      if (url.searchParams.get('continue') === 'page2') {
        json(res, 200, { metadata: { resourceVersion: '100' }, items: [item('b', '2')] });
        return;
      }
      lists++;
      if (lists === 1) json(res, 200, { metadata: { resourceVersion: '100', continue: 'page2' }, items: [item('a', '1')] });
      else json(res, 200, { metadata: { resourceVersion: '200' }, items: [item('b', '3')] });
    });
    const store = new ObjectStore<KubeObject>();
    const r = new Reflector(
      kubeListWatch(api.client, '/api/v1/secrets', { pageSize: 1, transform: (x: any) => ({ metadata: x.metadata, data: x.data }) }),
      { replace: (items) => store.replace(undefined, items), upsert: (x) => store.upsert(x), remove: (x) => store.remove(x) },
      { name: 'secrets', log: createLogger('error', () => {}), minWatchMs: 0 },
    );
    try {
      r.start();
      await r.whenSynced();
      // The relist after the 410 has been stored by the time the next watch opens.
      await secondWatchOpened;
      expect(store.list().map((x) => `${x.metadata.name}@${x.metadata.resourceVersion}`)).toEqual(['b@3']);
      expect(store.get('ns', 'b')).toEqual({ metadata: { name: 'b', namespace: 'ns', resourceVersion: '3' }, data: { k: 'dg==' } });
      const urls = api.seen.map((s) => s.url.search);
      expect(urls[0]).toBe('?limit=1');
      expect(urls[1]).toBe('?limit=1&continue=page2');
      expect(api.seen[2]!.url.searchParams.get('resourceVersion')).toBe('100');
      expect(api.seen[2]!.url.searchParams.get('allowWatchBookmarks')).toBe('true');
      expect(Number(api.seen[2]!.url.searchParams.get('timeoutSeconds'))).toBeGreaterThanOrEqual(300);
      expect(api.seen.at(-1)!.url.searchParams.get('resourceVersion')).toBe('200');
    } finally {
      await r.stop();
      await api.close();
    }
  });
});
