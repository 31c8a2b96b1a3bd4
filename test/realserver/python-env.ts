/**
 * Where hack/python-env.sh puts the tests' Python venv, computed the same
 * way: `${LLMROUTE_CACHE:-~/.cache/llmroute}/venv-<first 16 hex digits of
 * the sha256 of test/python/requirements.txt>`, complete once its stamp file
 * holds that hash; and how a test runs a script of test/python/ with it.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REQUIREMENTS = fileURLToPath(new URL('../python/requirements.txt', import.meta.url));

export function cacheDir(): string {
  return process.env.LLMROUTE_CACHE || join(homedir(), '.cache', 'llmroute');
}

export function sha256Prefix(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex').slice(0, 16);
}

/**
 * The venv's python. Throws, saying how to make it, when the venv is
 * missing or incomplete: a test that needs it must fail, not skip.
 */
export function venvPython(): string {
  const hash = sha256Prefix(readFileSync(REQUIREMENTS));
  const dir = join(cacheDir(), `venv-${hash}`);
  const python = join(dir, 'bin', 'python');
  let stamp = '';
  try {
    stamp = readFileSync(join(dir, '.llmroute-installed'), 'utf8').trim();
  } catch {
    // no stamp: not installed (or an install that did not finish)
  }
  if (stamp !== hash || !existsSync(python)) {
    throw new Error(`The tests' Python environment is not installed (expected ${dir}): run \`bash hack/python-env.sh\` first.`);
  }
  return python;
}

/**
 * Runs test/python/SCRIPT with the venv's python and returns the JSON of
 * the last line it prints. A non-zero exit, a time-out or output that is not
 * JSON throws, with the script's stdout and stderr.
 */
export function runPythonScript(script: string, args: string[] = [], env: NodeJS.ProcessEnv = {}, timeoutMs = 60_000): Promise<unknown> {
  const python = venvPython();
  const file = fileURLToPath(new URL(`../python/${script}`, import.meta.url));
  return new Promise((resolve, reject) => {
    execFile(python, [file, ...args], { env: { ...process.env, ...env }, timeout: timeoutMs }, (err, stdout, stderr) => {
      const said = `\nstdout:\n${stdout}\nstderr:\n${stderr}`;
      if (err) return reject(new Error(`${script} failed: ${err.message}${said}`));
      const last = stdout.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(last));
      } catch {
        reject(new Error(`${script} printed no JSON on its last line${said}`));
      }
    });
  });
}
