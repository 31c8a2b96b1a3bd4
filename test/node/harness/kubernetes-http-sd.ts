// An HTTP service-discovery endpoint for Debian's Prometheus (built without the Kubernetes discovery):
// on each GET /pod or /endpoints (?namespaces=a,b), lists the objects from the API server with the
// given ServiceAccount token and CA, and answers the target groups Prometheus's Kubernetes SD would
// make of them (hack/kubernetes-sd.ts). Runs inside the node's network namespace; prints
// {"port": N} once listening on 127.0.0.1.
//
//   node kubernetes-http-sd.ts --api https://10.244.0.1:6443 --ca ca.crt --token token
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { request } from 'node:https';
import { parseArgs } from 'node:util';
import { endpointsTargets, podTargets, type Endpoints, type Pod, type Service } from '../../../hack/kubernetes-sd.ts';

const { values } = parseArgs({ options: { api: { type: 'string' }, ca: { type: 'string' }, token: { type: 'string' } } });
if (!values.api || !values.ca || !values.token) throw new Error('usage: --api URL --ca FILE --token FILE');
const api = new URL(values.api);
const ca = readFileSync(values.ca);

function list<T>(resource: string, namespace: string | undefined): Promise<T[]> {
  const p = namespace ? `/api/v1/namespaces/${encodeURIComponent(namespace)}/${resource}` : `/api/v1/${resource}`;
  // the token is read each time: it may be replaced
  const token = readFileSync(values.token!, 'utf8').trim();
  return new Promise((resolve, reject) => {
    const req = request({ host: api.hostname, port: api.port, path: p, ca, headers: { authorization: `Bearer ${token}`, accept: 'application/json' }, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => (res.statusCode === 200 ? resolve((JSON.parse(body) as { items: T[] }).items) : reject(new Error(`GET ${p}: ${res.statusCode} ${body.slice(0, 300)}`))));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${p}: timeout`)));
    req.on('error', reject);
    req.end();
  });
}

async function all<T>(resource: string, namespaces: string[] | undefined): Promise<T[]> {
  if (!namespaces) return list<T>(resource, undefined);
  return (await Promise.all(namespaces.map((n) => list<T>(resource, n)))).flat();
}

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://sd');
  const namespaces = url.searchParams.get('namespaces')?.split(',').filter(Boolean);
  const answer = async () => {
    if (url.pathname === '/pod') return podTargets(await all<Pod>('pods', namespaces));
    if (url.pathname === '/endpoints') {
      const [endpoints, services, pods] = await Promise.all([all<Endpoints>('endpoints', namespaces), all<Service>('services', namespaces), all<Pod>('pods', namespaces)]);
      return endpointsTargets(endpoints, services, pods);
    }
    return null;
  };
  answer().then(
    (groups) => {
      if (!groups) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(groups));
    },
    (e: Error) => {
      process.stderr.write(`kubernetes-http-sd: ${e.message}\n`);
      res.writeHead(502, { 'content-type': 'text/plain' }).end(e.message);
    },
  );
});
server.listen(0, '127.0.0.1', () => {
  const a = server.address();
  console.log(JSON.stringify({ port: typeof a === 'object' && a ? a.port : 0 }));
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
