/**
 * The sidecar's command line (SPEC section 4). Pure: argv and env in,
 * options or a usage error out.
 */
import { isLogLevel, type LogLevel } from './log.ts';

export interface SidecarArgs {
  config: string;
  host?: string | undefined;
  port?: number | undefined;
  adminPort?: number | undefined;
  logLevel?: LogLevel | undefined;
  help: boolean;
  version: boolean;
}

export const USAGE = `usage: llmroute-sidecar --config PATH [--host H] [--port N] [--admin-port N] [--log-level L]

  --config PATH     the config file (or LLMROUTE_CONFIG)
  --host H          API address (default from the config, else 127.0.0.1)
  --port N          API port (default from the config, else 4000)
  --admin-port N    admin port for /metrics /healthz /readyz (default 4001)
  --log-level L     debug | info | warn | error (default info)
  --help, --version
`;

export class UsageError extends Error {}

export function parseArgs(argv: string[], env: NodeJS.ProcessEnv): SidecarArgs {
  const out: Partial<SidecarArgs> = { help: false, version: false };
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i]!;
    let value: string | undefined;
    const eq = arg.indexOf('=');
    if (arg.startsWith('--') && eq !== -1) {
      value = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    const next = (): string => {
      if (value !== undefined) return value;
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`${arg} needs a value`);
      return v;
    };
    switch (arg) {
      case '--config':
        out.config = next();
        break;
      case '--host':
        out.host = next();
        break;
      case '--port':
        out.port = port(arg, next());
        break;
      case '--admin-port':
        out.adminPort = port(arg, next());
        break;
      case '--log-level': {
        const l = next();
        if (!isLogLevel(l)) throw new UsageError(`--log-level must be debug, info, warn or error, not '${l}'`);
        out.logLevel = l;
        break;
      }
      case '-h':
      case '--help':
        out.help = true;
        break;
      case '--version':
        out.version = true;
        break;
      default:
        throw new UsageError(`unknown argument '${arg}'`);
    }
  }
  out.config ??= env.LLMROUTE_CONFIG;
  if (!out.config && !out.help && !out.version) throw new UsageError('--config PATH (or LLMROUTE_CONFIG) is required');
  return out as SidecarArgs;
}

function port(flag: string, v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n > 65535) throw new UsageError(`${flag} must be a port number from 0 to 65535, not '${v}'`);
  return n;
}
