/**
 * The process around every llmroute command (sidecar, operator, injector):
 * run `main`, exit with the code it returns, and print a crash's stack to
 * stderr with exit code 1; and the graceful stop on SIGTERM/SIGINT that the
 * two long-running commands share.
 */
import type { Logger } from './log.ts';

/**
 * `exit: 'at-once'` (the servers) ends the process as soon as main returns, whatever timers or
 * sockets are left; `'when-idle'` (the injector, which pipes its output) only sets the exit code,
 * so stdout is flushed to its end first.
 */
export function runCommand(name: string, main: () => Promise<number>, exit: 'at-once' | 'when-idle' = 'at-once'): void {
  main().then(
    (code) => {
      if (exit === 'at-once') process.exit(code);
      else process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`${name}: ${(err as Error)?.stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}

/**
 * Resolves, after the first SIGTERM or SIGINT, with the exit code that
 * `stop` resolves to (a rejected stop is logged and gives `failedCode`).
 * Later signals are ignored while stopping.
 */
export function untilStopSignal(log: Logger, stop: (signal: NodeJS.Signals) => Promise<number>, failedCode: number): Promise<number> {
  return new Promise<number>((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stopping) return;
      stopping = true;
      log.info('shutting down', { signal });
      stop(signal).then(resolve, (err) => {
        log.error('error while shutting down', { error: (err as Error)?.message ?? String(err) });
        resolve(failedCode);
      });
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  });
}
