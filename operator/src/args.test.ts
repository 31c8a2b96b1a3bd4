import { spawnSync } from 'node:child_process';
import { parseArgs, USAGE } from './args.ts';
import { node24, REPO_ROOT } from './testing/processes.ts';

describe('parseArgs', () => {
  it('has the documented defaults', () => {
    expect(parseArgs([], {})).toEqual({
      namespaces: [],
      webhookPort: 9443,
      webhookConfigName: 'llmroute',
      webhookService: 'llmroute-webhook',
      webhookSecret: 'llmroute-webhook-tls',
      metricsPort: 8080,
      metricsHost: '0.0.0.0',
      leaderElect: true,
      leaderElectionNamespace: 'llmroute-system',
      leaseName: 'llmroute-operator',
      resyncMs: 300_000,
      writeQps: 50,
      writeBurst: 100,
      logLevel: 'info',
      help: false,
      version: false,
      identity: undefined,
    });
  });

  it('takes repeated and comma-separated namespaces, without duplicates', () => {
    expect(parseArgs(['--namespace', 'a', '--namespace=b,c', '-n', 'a'], {}).namespaces).toEqual(['a', 'b', 'c']);
  });

  it('reads the pod namespace and name from the environment; flags win', () => {
    expect(parseArgs([], { POD_NAMESPACE: 'ops', POD_NAME: 'op-1' })).toMatchObject({ leaderElectionNamespace: 'ops', identity: 'op-1' });
    expect(parseArgs([], { POD_NAME: 'op-1' }).pod).toBeUndefined();
    expect(parseArgs([], { POD_NAME: 'op-1', POD_UID: 'u-1' }).pod).toEqual({ name: 'op-1', uid: 'u-1' });
    expect(parseArgs(['--leader-election-namespace', 'x', '--id', 'me'], { POD_NAMESPACE: 'ops', POD_NAME: 'op-1' })).toMatchObject({
      leaderElectionNamespace: 'x',
      identity: 'me',
    });
  });

  it('parses ports, durations and switches', () => {
    expect(
      parseArgs(['--webhook-port', '9000', '--metrics-port=0', '--resync-period', '1m30s', '--leader-elect=false', '--log-level', 'debug', '--kubeconfig', '/k'], {}),
    ).toMatchObject({ webhookPort: 9000, metricsPort: 0, resyncMs: 90_000, leaderElect: false, logLevel: 'debug', kubeconfig: '/k' });
    expect(parseArgs(['--leader-elect'], {}).leaderElect).toBe(true);
    expect(parseArgs(['--kube-write-qps', '0', '--kube-write-burst=20'], {})).toMatchObject({ writeQps: 0, writeBurst: 20 });
    expect(parseArgs(['--kube-write-qps', '2.5'], {}).writeQps).toBe(2.5);
  });

  it.each([
    [['--metrics-port', '70000'], /--metrics-port must be a port number/],
    [['--namespace', 'Bad_NS'], /not a namespace name/],
    [['--resync-period', '10'], /--resync-period must be a duration/],
    [['--resync-period', '10ms'], /at least 1s/],
    [['--leader-elect=maybe'], /true or false/],
    [['--log-level', 'loud'], /--log-level must be/],
    [['--kube-write-qps', '-1'], /--kube-write-qps must be a number of at least 0/],
    [['--kube-write-burst', '0'], /--kube-write-burst must be a number of at least 1/],
    [['--namespace'], /needs a value/],
    [['--frobnicate'], /unknown argument '--frobnicate'/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseArgs(argv, {})).toThrow(expect.objectContaining({ code: 'usage', message: expect.stringMatching(message) }));
  });

  it('reads the webhook flags the chart passes', () => {
    const a = parseArgs(
      ['--sidecar-image=ghcr.io/x/sidecar:1', '--sidecar-image-pull-policy', 'IfNotPresent', '--webhook-config-name=wh', '--webhook-service=svc', '--webhook-secret=sec', '--webhook-cert-dir=/certs'],
      {},
    );
    expect(a).toMatchObject({ sidecarImage: 'ghcr.io/x/sidecar:1', sidecarImagePullPolicy: 'IfNotPresent', webhookConfigName: 'wh', webhookService: 'svc', webhookSecret: 'sec', webhookCertDir: '/certs' });
    expect(parseArgs([], {}).sidecarImage).toBeUndefined();
    expect(parseArgs([], {})).toMatchObject({ webhookConfigName: 'llmroute', webhookService: 'llmroute-webhook', webhookSecret: 'llmroute-webhook-tls' });
    expect(() => parseArgs(['--sidecar-image-pull-policy', 'Sometimes'], {})).toThrow(/Always, IfNotPresent or Never/);
  });

  it('reads where keys may go: --allowed-base-url-hosts replaces the defaults, repeatable; empty allows nothing', () => {
    expect(parseArgs([], {}).allowedBaseUrlHosts).toBeUndefined();
    expect(parseArgs(['--allowed-base-url-hosts=openai=api.openai.com,openai-compatible=vllm.ml.svc:8000', '--allowed-base-url-hosts', 'openai=proxy.corp.example'], {}).allowedBaseUrlHosts).toEqual({
      openai: ['api.openai.com', 'proxy.corp.example'],
      'openai-compatible': ['vllm.ml.svc:8000'],
    });
    expect(parseArgs(['--allowed-base-url-hosts='], {}).allowedBaseUrlHosts).toEqual({});
    expect(() => parseArgs(['--allowed-base-url-hosts=mistral=x.example'], {})).toThrow(expect.objectContaining({ code: 'usage', message: expect.stringMatching(/--allowed-base-url-hosts: 'mistral' is not a provider/) }));
    expect(() => parseArgs(['--allowed-base-url-hosts=openai=https://api.openai.com'], {})).toThrow(expect.objectContaining({ code: 'usage' }));
  });

  it('documents the SPEC command line', () => {
    expect(USAGE).toContain('llmroute-operator [--namespace NS]... [--webhook-port N] [--metrics-port N]');
  });
});

describe('llmroute-operator CLI', () => {
  const run = (...args: string[]) => spawnSync(node24(), ['operator/src/cli.ts', ...args], { cwd: REPO_ROOT, encoding: 'utf8', env: { ...process.env, KUBECONFIG: '/nonexistent' } });

  it('prints its usage with --help and exits 0', () => {
    const r = run('--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(USAGE);
  });

  it('exits 2 with the usage on a bad flag', () => {
    const r = run('--nope');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("llmroute-operator: unknown argument '--nope'");
  });

  it('exits 1 with a JSON log line when no cluster can be reached', () => {
    const r = run('--kubeconfig', '/nonexistent/kubeconfig', '--metrics-port', '0');
    expect(r.status).toBe(1);
    const line = JSON.parse(r.stdout.trim().split('\n')[0]!);
    expect(line).toMatchObject({ level: 'error', component: 'operator', msg: 'cannot load a kubeconfig' });
  });
});
