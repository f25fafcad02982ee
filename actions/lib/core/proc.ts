// Running processes, all through zx: bounded commands (text or bytes) with a timeout and an abort
// signal, and long-lived daemons held by PID in a registry that `virtnet cleanup` reads after a
// SIGKILL. Every process we start is ended by its own PID, never by name.
//
// How zx is used, and why:
// - Each command runs under zx's `$` (its process lifecycle, stdio and result), but zx is given a
//   spawn function that starts argv itself, without a shell: no shell parses the words, the PID
//   zx reports is the command's own (the one the registry records and the one we signal), and no
//   bash starts per command (about 5 ms each on this kind of machine, measured: bash -c 'exec true'
//   vs true; a sweep pays it on every netperf, ip and iptables call). zx still renders the command
//   line (`exec ...`, quoted) for its own bookkeeping; nothing runs it.
// - Output is collected here as bytes and decoded once at the end. zx's own store decodes chunk by
//   chunk (a UTF-8 character split across two chunks comes out mangled) and keeps every chunk of a
//   daemon forever; it is given a store that keeps nothing.
// - Timeouts and aborts end the command with SIGKILL through its ChildProcess, which signals the PID
//   only while it is still our unreaped child. (zx's own kill walks the process table with `ps` and
//   signals a process group, and would signal a PID that was reused after our child was reaped.)
// - A signal that is already aborted starts nothing: the command is not run at all.

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { $, type Options } from 'zx/core';
import { identityOf, isAlive } from './liveness.ts';
import { MiB, readRegularFile } from './safe-read.ts';
import { writeFileSafely } from './safe-write.ts';

// The liveness rule lives in liveness.ts; start times are re-exported for callers that record them.
export { processStartTicks } from './liveness.ts';

/** Where we note the PIDs of daemons we start, so `virtnet cleanup` can end them after a SIGKILL. */
export function stateDir(): string {
  return process.env.VIRTNET_STATE_DIR ?? '/run/virtnet';
}

// ---- zx -------------------------------------------------------------------------------------

/** A chunk list that keeps nothing: output is collected by Collector instead. */
function keepNothing(): Buffer[] {
  const chunks: Buffer[] = [];
  chunks.push = () => 0;
  return chunks;
}

/**
 * Starts `argv` under zx. Every option is set here rather than taken from zx's defaults, which
 * ZX_* environment variables could change (another shell, a prefix, verbose logging).
 */
function spawnArgv(
  argv: readonly string[],
  options: {
    env?: NodeJS.ProcessEnv;
    cwd?: string;
    input?: string | Buffer;
    stdio: Options['stdio'];
    detached?: boolean;
  },
) {
  const [file, ...args] = argv;
  const shell = $({
    // zx insists on a shell to render its command line; the spawn below ignores that line.
    shell: 'bash',
    spawn: ((_shell: string, _line: readonly string[], spawnOptions: Parameters<typeof spawn>[2]) =>
      spawn(file!, args, { ...spawnOptions, shell: false })) as Options['spawn'],
    prefix: '',
    postfix: '',
    quiet: true,
    verbose: false,
    nothrow: true,
    preferLocal: false,
    env: options.env ?? process.env,
    cwd: options.cwd,
    stdio: options.stdio,
    detached: options.detached ?? false,
    ...(options.input !== undefined ? { input: options.input } : {}),
    store: { stdout: keepNothing(), stderr: keepNothing(), stdall: keepNothing() },
  });
  return shell`exec ${argv}`;
}

/** Bytes from a stream, kept as bytes and decoded (if at all) once at the end. */
class Collector {
  private chunks: Buffer[] = [];
  add(chunk: Buffer): void {
    this.chunks.push(chunk);
  }
  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
  text(): string {
    return this.bytes().toString('utf8');
  }
}

function destroyOutput(child: ChildProcess): void {
  child.stdout?.destroy();
  child.stderr?.destroy();
}

function notFoundError(file: string): Error {
  return new Error(`${file}: command not found (is it installed? npm run reproduce installs the system packages)`);
}

// ---- commands -------------------------------------------------------------------------------

export interface CommandResult {
  argv: string[];
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Killed (SIGKILL) when the timeout passed. */
  timedOut: boolean;
  /** Killed (SIGKILL) because the signal was aborted, or never started because it already was. */
  aborted: boolean;
  durationMs: number;
}

/** For output that is not text (`git cat-file --batch`: blobs with byte counts). */
export interface BytesResult extends Omit<CommandResult, 'stdout'> {
  stdout: Buffer;
}

export interface RunOptions {
  timeoutMs: number;
  /** Aborting kills the process (SIGKILL) and resolves with what it printed so far; an already aborted signal runs nothing. */
  signal?: AbortSignal;
  input?: string | Buffer;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** The command's stdout and stderr go straight to ours (a build that prints for minutes shows progress in a CI log); the result holds none of it. */
  passOutput?: boolean;
}

async function run(argv: readonly string[], options: RunOptions): Promise<BytesResult> {
  const [file] = argv;
  if (!file) throw new Error('runCommand: empty argv');
  const base = { argv: [...argv], exitCode: null, signal: null, stderr: '', timedOut: false, durationMs: 0 };
  if (options.signal?.aborted) return { ...base, stdout: Buffer.alloc(0), aborted: true };
  const started = performance.now();
  const hasInput = options.input !== undefined && options.input.length > 0;
  const running = spawnArgv(argv, {
    env: options.env,
    cwd: options.cwd,
    input: hasInput ? options.input : undefined,
    stdio: [
      hasInput ? 'pipe' : 'ignore',
      options.passOutput ? 'inherit' : 'pipe',
      options.passOutput ? 'inherit' : 'pipe',
    ],
  });
  const child = running.child;
  const stdout = new Collector();
  const stderr = new Collector();
  child?.stdout?.on('data', (d: Buffer) => stdout.add(d));
  child?.stderr?.on('data', (d: Buffer) => stderr.add(d));
  // A command that exits without reading its input must not crash us with EPIPE.
  child?.stdin?.on('error', () => {});
  let timedOut = false;
  let aborted = false;
  const kill = () => {
    if (!child) return;
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    // A process it started in the background may still hold its stdout: once it is gone, stop
    // reading, or the result would wait for that process too.
    if (child.exitCode !== null || child.signalCode !== null) destroyOutput(child);
    else child.once('exit', () => destroyOutput(child));
  };
  const timer = setTimeout(() => {
    timedOut = true;
    kill();
  }, options.timeoutMs);
  const onAbort = () => {
    aborted = true;
    kill();
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });
  let output;
  try {
    output = await running;
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
  }
  const cause = output.cause as NodeJS.ErrnoException | null;
  if (cause) {
    if (cause.code === 'ENOENT') throw notFoundError(file);
    throw cause;
  }
  const result = {
    ...base,
    exitCode: output.exitCode,
    signal: output.signal,
    stdout: stdout.bytes(),
    stderr: stderr.text(),
    timedOut,
    aborted,
    durationMs: performance.now() - started,
  };
  return result;
}

/** Runs argv to completion or until the timeout, which kills it with SIGKILL. Never throws for a non-zero exit. */
export async function runCommand(argv: readonly string[], options: RunOptions): Promise<CommandResult> {
  const result = await run(argv, options);
  return { ...result, stdout: result.stdout.toString('utf8') };
}

/** Like runCommand, with stdout as the bytes the command wrote. */
export function runCommandBytes(argv: readonly string[], options: RunOptions): Promise<BytesResult> {
  return run(argv, options);
}

/** Like runCommand, but a non-zero exit, a timeout or an abort throws an error with the command and its stderr. */
export async function mustRun(argv: readonly string[], options: Partial<RunOptions> = {}): Promise<CommandResult> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const result = await runCommand(argv, { ...options, timeoutMs });
  if (result.aborted) throw new Error(`${argv.join(' ')}: aborted`);
  if (result.timedOut) throw new Error(`${argv.join(' ')}: timed out after ${timeoutMs} ms`);
  if (result.exitCode !== 0) {
    const why = (result.stderr || result.stdout).trim().split('\n').slice(-3).join(' | ');
    throw new Error(`${argv.join(' ')}: exited with ${result.exitCode ?? result.signal}${why ? `: ${why}` : ''}`);
  }
  return result;
}

// ---- the PID registry -----------------------------------------------------------------------

interface TrackedProcess {
  pid: number;
  label: string;
  argv: string[];
  /** The kernel's start time of the process: guards against PID reuse. */
  startTicks: string;
  /** The virtnet process that started it; while it lives, the daemon is its business. */
  owner: number;
  /** The owner's start time (absent in entries written before it was kept). */
  ownerStartTicks?: string;
  /** The testbed the daemon serves, when it serves one: `virtnet cleanup --index N` ends only N's. */
  testbedIndex?: number;
}

function trackedDir(): string {
  return join(stateDir(), 'processes');
}

function track(pid: number, label: string, argv: readonly string[], testbedIndex: number | null): void {
  const identity = identityOf(pid);
  if (identity === null) return;
  mkdirSync(trackedDir(), { recursive: true });
  const entry: TrackedProcess = {
    pid,
    label,
    argv: [...argv],
    startTicks: identity.startTicks,
    owner: process.pid,
    ownerStartTicks: identityOf(process.pid)?.startTicks,
  };
  if (testbedIndex !== null) entry.testbedIndex = testbedIndex;
  writeFileSafely(join(trackedDir(), `${pid}.json`), JSON.stringify(entry));
}

function untrack(pid: number): void {
  rmSync(join(trackedDir(), `${pid}.json`), { force: true });
}

/**
 * Kills daemons that virtnet started and whose run is gone (its owner process died), matching
 * each by PID and start time so a reused PID is never hit. `labelPrefix` picks an environment's
 * daemons ("kvm:"); `testbedIndex` only those serving that testbed. Returns a line per process ended.
 */
export function killOrphanedDaemons(labelPrefix = '', testbedIndex: number | null = null): string[] {
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
      entry = JSON.parse(readRegularFile(join(trackedDir(), file), { maxBytes: MiB })) as TrackedProcess;
    } catch {
      rmSync(join(trackedDir(), file), { force: true });
      continue;
    }
    if (!entry.label.startsWith(labelPrefix)) continue;
    if (testbedIndex !== null && entry.testbedIndex !== testbedIndex) continue;
    if (entry.owner !== process.pid && isAlive(entry.owner, entry.ownerStartTicks ?? null)) continue; // its run is still going
    if (isAlive(entry.pid, entry.startTicks)) {
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

// ---- daemons --------------------------------------------------------------------------------

/** A long-running process we started (netserver, qemu, udhcpd), registered by PID, its output kept in memory. */
export class Daemon {
  readonly child: ChildProcess;
  /** The last 1 MiB of what it printed: enough for a console log, bounded for a chatty daemon. */
  output = '';
  private exited: Promise<void>;

  /**
   * `label` names the process in the PID registry that `virtnet cleanup` reads (e.g.
   * "native:netserver"); `testbedIndex` the testbed it serves, if any.
   */
  constructor(
    argv: readonly string[],
    options: { label: string; testbedIndex?: number; env?: NodeJS.ProcessEnv; onOutput?: (chunk: string) => void },
  ) {
    const [file] = argv;
    if (!file) throw new Error('Daemon: empty argv');
    const running = spawnArgv(argv, { env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const child = running.child;
    if (!child) throw new Error(`could not start ${file}`);
    this.child = child;
    const pid = child.pid;
    if (pid !== undefined) track(pid, options.label, argv, options.testbedIndex ?? null);
    // One decoder per stream, so a character split across two chunks is decoded whole.
    const decoders = [new StringDecoder('utf8'), new StringDecoder('utf8')];
    const collect = (decoder: StringDecoder) => (d: Buffer) => {
      const text = decoder.write(d);
      this.output = (this.output + text).slice(-1 << 20);
      options.onOutput?.(text);
    };
    child.stdout?.on('data', collect(decoders[0]!));
    child.stderr?.on('data', collect(decoders[1]!));
    this.exited = running.then((output) => {
      if (pid !== undefined) untrack(pid);
      const cause = output.cause as Error | null;
      if (cause)
        this.output += `\n[virtnet] could not start ${file}: ${(cause as NodeJS.ErrnoException).code === 'ENOENT' ? 'command not found' : cause.message}\n`;
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
    if (!this.running) return this.exited;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.running && this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  waitForExit(): Promise<void> {
    return this.exited;
  }
}

/**
 * Starts argv in its own session, detached from us, with stdout and stderr going to `logFd`, and
 * lets it outlive this process (the start-environment action's serve process). Returns its PID and
 * a way to read its exit code should it end while we still run.
 */
export function spawnDetached(
  argv: readonly string[],
  options: { logFd: number; cwd?: string; env?: NodeJS.ProcessEnv },
): { pid: number; exitCode: () => number | null } {
  const running = spawnArgv(argv, {
    env: options.env,
    cwd: options.cwd,
    stdio: ['ignore', options.logFd, options.logFd],
    detached: true,
  });
  const child = running.child;
  if (child?.pid === undefined) throw new Error(`could not start ${argv.slice(0, 3).join(' ')}`);
  let code: number | null = null;
  // From the child's own exit event: it comes as soon as Node reaps the process, before zx's result.
  child.once('exit', (exitCode, signal) => (code ??= exitCode ?? (signal ? 128 : 1)));
  void running.then((output) => (code ??= output.exitCode ?? (output.signal ? 128 : 1)));
  child.unref();
  return { pid: child.pid, exitCode: () => code };
}

// ---- waiting --------------------------------------------------------------------------------

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
  });
}

/**
 * Polls `probe` until it returns true or the deadline passes. Bounded in count and time.
 * Returns the seconds it took, or throws with `what` and the last probe error.
 */
export async function waitUntil(
  what: string,
  probe: () => Promise<boolean>,
  options: { timeoutMs: number; intervalMs?: number; signal?: AbortSignal; giveUp?: () => string | null },
): Promise<number> {
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
