/**
 * The service as its own process (`baobei serve`), for tests that kill it or that need a second
 * process on the same data dir. The URL is read from the line it prints at start. Under vitest the
 * command is the run's transpiled build, else bin/baobei.js (support/builtCli.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { cliEntry } from './builtCli.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ChildService {
  url: string;
  pid: number;
  stdout(): string;
  stderr(): string;
  /** Resolves once the process has exited and been reaped (its pid no longer exists). */
  exited: Promise<ChildExit>;
  /** Sends the signal and waits for the exit. */
  kill(signal: NodeJS.Signals): Promise<ChildExit>;
}

function childEnv(dataDir: string, key: string, extra: Record<string, string>): NodeJS.ProcessEnv {
  return {
    PATH: process.env['PATH'],
    HOME: process.env['HOME'],
    PORT: '0',
    HOST: '127.0.0.1',
    BAOBEI_DATA_DIR: dataDir,
    BAOBEI_KEY: key,
    LOG_LEVEL: 'warn',
    ...extra,
  };
}

function watch(child: ChildProcess): { out: () => string; err: () => string; exited: Promise<ChildExit> } {
  let out = '';
  let err = '';
  child.stdout?.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr?.setEncoding('utf8').on('data', (s: string) => (err += s));
  const exited = new Promise<ChildExit>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { out: () => out, err: () => err, exited };
}

/** Starts `baobei serve` on a data dir and resolves with its URL once it listens. */
export async function spawnService(options: {
  dataDir: string;
  key: string;
  env?: Record<string, string>;
  timeoutMs?: number;
  /** The script Node runs as the command (default: this run's, see support/builtCli.ts). */
  entry?: string;
}): Promise<ChildService> {
  const child = spawn(process.execPath, [options.entry ?? cliEntry(), 'serve'], {
    cwd: REPO_ROOT,
    env: childEnv(options.dataDir, options.key, options.env ?? {}),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const { out, err, exited } = watch(child);
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`service did not start in time:\n${out()}\n${err()}`));
    }, options.timeoutMs ?? 30_000);
    const onData = () => {
      const match = /listening: (http:\/\/\S+)/.exec(out());
      if (match?.[1]) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        // Bound to 127.0.0.1; "localhost" may resolve to ::1 first.
        resolve(match[1].replace('//localhost:', '//127.0.0.1:'));
      }
    };
    child.stdout?.on('data', onData);
    void exited.then((e) => {
      clearTimeout(timer);
      reject(new Error(`service exited (${e.code ?? e.signal}) before listening:\n${out()}\n${err()}`));
    });
  });
  return {
    url,
    pid: child.pid!,
    stdout: out,
    stderr: err,
    exited,
    async kill(signal) {
      child.kill(signal);
      return exited;
    },
  };
}

/**
 * Runs `baobei <args>` to completion; `entry` (default: this run's, see support/builtCli.ts) is the
 * script Node runs as the command.
 */
export async function runCli(
  args: string[],
  options: { dataDir: string; key: string; env?: Record<string, string>; timeoutMs?: number; entry?: string },
): Promise<ChildExit & { stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [options.entry ?? cliEntry(), ...args], {
    cwd: REPO_ROOT,
    env: childEnv(options.dataDir, options.key, options.env ?? {}),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const { out, err, exited } = watch(child);
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
  const exit = await exited;
  clearTimeout(timer);
  return { ...exit, stdout: out(), stderr: err() };
}

/** A port on this machine that nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
