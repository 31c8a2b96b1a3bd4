import { parseArgs, UsageError } from './args.ts';

describe('parseArgs (SPEC section 4)', () => {
  it('reads every flag, both --flag value and --flag=value', () => {
    expect(parseArgs(['--config', 'c.yaml', '--host=0.0.0.0', '--port', '5000', '--admin-port=5001', '--log-level', 'debug'], {})).toMatchObject({
      config: 'c.yaml',
      host: '0.0.0.0',
      port: 5000,
      adminPort: 5001,
      logLevel: 'debug',
    });
  });
  it('takes the config from LLMROUTE_CONFIG', () => expect(parseArgs([], { LLMROUTE_CONFIG: '/etc/llmroute/config.yaml' }).config).toBe('/etc/llmroute/config.yaml'));
  it.each([
    [[], /--config PATH/],
    [['--config'], /needs a value/],
    [['--config', 'c', '--port', 'abc'], /port number/],
    [['--config', 'c', '--port', '70000'], /port number/],
    [['--config', 'c', '--log-level', 'loud'], /--log-level/],
    [['--config', 'c', '--bogus'], /unknown argument '--bogus'/],
  ])('%j is a usage error', (argv, message) => {
    expect(() => parseArgs(argv as string[], {})).toThrow(UsageError);
    expect(() => parseArgs(argv as string[], {})).toThrow(message);
  });
});
