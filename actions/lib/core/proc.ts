// Running processes: bounded commands with a timeout, and long-lived daemons held by PID.
// Every process we start is killed by its own PID, never by name.

import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where we note the PIDs of daemons we start, so `virtnet cleanup` can end them after a SIGKILL. */
export function stateDir(): string {
  return process.env.VIRTNET_STATE_DIR ?? '/run/virtnet';
}

interface TrackedProcess {
  pid: number;
  label: string;
  argv: string[];
  /** The kernel's start time of the process (field 22 of /proc/PID/stat): guards against PID reuse. */
  startTicks: string;
  owner: number;
}

/** The kernel's start time of a process (field 22 of /proc/PID/stat), or null if it is gone. */
export function processStartTicks(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm (field 2) may hold spaces; fields after the closing paren are space-separated.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

function trackedDir(): string {
  return join(stateDir(), 'processes');
}

function track(pid: number, label: string, argv: readonly string[]): void {
  const startTicks = processStartTicks(pid);
  if (startTicks === null) return;
  mkdirSync(trackedDir(), { recursive: true });
  const entry: TrackedProcess = { pid, label, argv: [...argv], startTicks, owner: process.pid };
  writeFileSync(join(trackedDir(), `${pid}.json`), JSON.stringify(entry));
}

function untrack(pid: number): void {
  rmSync(join(trackedDir(), `${pid}.json`), { force: true });
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Kills daemons that virtnet started and whose run is gone (its owner process died), matching
 * each by PID and start time so a reused PID is never hit. Returns a line per process ended.
 */
export function killOrphanedDaemons(labelPrefix = ''): string[] {
  let files: string[];
  try {
    files = readdirSync(trackedDir());
  } catch {
    return [];
  }
  const ended: string[] = [];
  for (const file of files) {
    let entry: TrackedProcess;
    try {
      entry = JSON.parse(readFileSync(join(trackedDir(), file), 'utf8')) as TrackedProcess;
    } catch {
      rmSync(join(trackedDir(), file), { force: true });
      continue;
    }
    if (!entry.label.startsWith(labelPrefix)) continue;
    if (entry.owner !== process.pid && isAlive(entry.owner)) continue; // its run is still going
    if (processStartTicks(entry.pid) === entry.startTicks) {
      try {
        process.kill(entry.pid, 'SIGKILL');
        ended.push(`process ${entry.pid} (${entry.label}: ${entry.argv.join(' ')})`);
      } catch {
        // already gone
      }
    }
    untrack(entry.pid);
  }
  return ended;
}

export interface CommandResult {
  argv: string[];
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  durationMs: number;
}

export interface RunOptions {
  timeoutMs: number;
  /** Aborting kills the process (SIGKILL) and resolves with what it printed so far. */
  signal?: AbortSignal;
  input?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** Runs argv to completion or until the timeout, which kills it with SIGKILL. Never throws for a non-zero exit. */
export async function runCommand(argv: readonly string[], options: RunOptions): Promise<CommandResult> {
  const [file, ...args] = argv;
  if (!file) throw new Error('runCommand: empty argv');
  const started = performance.now();
  const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'], env: options.env ?? process.env, cwd: options.cwd });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdin!.on('error', () => {});
  child.stdin!.end(options.input ?? '');
  let timedOut = false;
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  const timer = setTimeout(() => {
    timedOut = true;
    kill();
  }, options.timeoutMs);
  options.signal?.addEventListener('abort', kill, { once: true });
  let spawnError: Error | null = null;
  child.once('error', (e) => (spawnError = e));
  try {
    await once(child, 'close');
  } catch {
    // 'error' already recorded
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', kill);
  }
  if (spawnError) {
    const e = spawnError as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') throw new Error(`${file}: command not found (is it installed? npm run reproduce installs the system packages)`);
    throw e;
  }
  return { argv: [...argv], exitCode: child.exitCode, signal: child.signalCode as NodeJS.Signals | null, stdout, stderr, timedOut, durationMs: performance.now() - started };
}

/** Like runCommand, but a non-zero exit or timeout throws an error with the command and its stderr. */
export async function mustRun(argv: readonly string[], options: Partial<RunOptions> = {}): Promise<CommandResult> {
  const result = await runCommand(argv, { timeoutMs: 60_000, ...options });
  if (result.timedOut) throw new Error(`${argv.join(' ')}: timed out after ${options.timeoutMs ?? 60_000} ms`);
  if (result.exitCode !== 0) {
    const why = (result.stderr || result.stdout).trim().split('\n').slice(-3).join(' | ');
    throw new Error(`${argv.join(' ')}: exited with ${result.exitCode ?? result.signal}: ${why}`);
  }
  return result;
}

/** A long-running process we started (netserver, dockerd, qemu) with its output kept in memory and optionally a file. */
export class Daemon {
  readonly child: ChildProcess;
  output = '';
  private exited: Promise<void>;

  /** `label` names the process in the PID registry that `virtnet cleanup` reads (e.g. "native:netserver"). */
  constructor(argv: readonly string[], options: { label: string; env?: NodeJS.ProcessEnv; onOutput?: (chunk: string) => void }) {
    const [file, ...args] = argv;
    if (!file) throw new Error('Daemon: empty argv');
    this.child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], env: options.env ?? process.env });
    const pid = this.child.pid;
    if (pid !== undefined) track(pid, options.label, argv);
    const collect = (d: string) => {
      // Keep the last 1 MiB: enough for a console log, bounded for a chatty daemon.
      this.output = (this.output + d).slice(-1 << 20);
      options.onOutput?.(d);
    };
    this.child.stdout!.setEncoding('utf8').on('data', collect);
    this.child.stderr!.setEncoding('utf8').on('data', collect);
    this.exited = new Promise((resolve) => {
      this.child.once('exit', () => {
        if (pid !== undefined) untrack(pid);
        resolve();
      });
      this.child.once('error', (e) => {
        collect(`\n[virtnet] could not start ${file}: ${e.message}\n`);
        resolve();
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.pid !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** SIGTERM, then SIGKILL after graceMs. Resolves once the process is gone. */
  async stop(graceMs = 3000): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.running && this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  waitForExit(): Promise<void> {
    return this.exited;
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    }, { once: true });
  });
}

/**
 * Polls `probe` until it returns true or the deadline passes. Bounded in count and time.
 * Returns the seconds it took, or throws with `what` and the last probe error.
 */
export async function waitUntil(what: string, probe: () => Promise<boolean>, options: { timeoutMs: number; intervalMs?: number; signal?: AbortSignal; giveUp?: () => string | null }): Promise<number> {
  const started = performance.now();
  const interval = options.intervalMs ?? 200;
  const maxTries = Math.ceil(options.timeoutMs / interval) + 1;
  for (let i = 0; i < maxTries; i++) {
    if (options.signal?.aborted) throw new Error(`${what}: aborted`);
    if (await probe()) return (performance.now() - started) / 1000;
    const reason = options.giveUp?.();
    if (reason) throw new Error(`${what}: ${reason}`);
    if (performance.now() - started > options.timeoutMs) break;
    await sleep(interval, options.signal);
  }
  throw new Error(`${what}: not ready after ${(options.timeoutMs / 1000).toFixed(0)} s`);
}
