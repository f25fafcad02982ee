// The start-environment action's edge: run `virtnet serve` detached (so the environment outlives
// the action's main step), wait for its endpoint file, and later stop it by PID. What is started
// and what is read back is the serve protocol (lib/measure/serve-protocol.ts). Every wait is bounded; a PID is
// signalled only while /proc shows it is still our serve process.

import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { identityOf, type ProcessIdentity } from '../../lib/core/liveness.ts';
import { sleep, spawnDetached } from '../../lib/core/proc.ts';
import {
  askedMarker,
  type EndpointFile,
  parseEndpointFile,
  RELEASE_KEY_ENV,
  releasedMarker,
  type ServeRequest,
  serveArgv,
} from '../../lib/measure/serve-protocol.ts';
import { MiB, readRegularFile, UnsafeFileError } from '../../lib/core/safe-read.ts';
import { openForWriting } from '../../lib/core/safe-write.ts';

/** The serve process's log and endpoint file are read only to say why it failed or where it listens. */
const LOG_MAX_BYTES = 64 * MiB;
const ENDPOINT_MAX_BYTES = MiB;

/** What the action starts `virtnet serve` with: the request plus where the checkout and the log are. */
export interface ServeSettings extends ServeRequest {
  serverAddress: string;
  /** The virtnet checkout whose scripts/virtnet.ts serves the environment. */
  virtnetDir: string;
  logFile: string;
  /** The per-run secret a client must present to release; passed in the environment, never argv. */
  releaseKey?: string | null;
}

/** The Node that runs the checkout's TypeScript: its pinned one when installed, else ours (Node 24 strips types). */
export function nodeFor(virtnetDir: string, fallback = process.execPath): string {
  const pinned = join(virtnetDir, 'node_modules', '.bin', 'node');
  return existsSync(pinned) ? pinned : fallback;
}

function tail(path: string, lines = 15): string {
  try {
    return readRegularFile(path, { maxBytes: LOG_MAX_BYTES }).trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * True while `serve` is a live `virtnet ... serve` process: the same process (PID and start time)
 * and still running virtnet serve (a process that exec'd something else is not ours to signal).
 */
export function isServeProcess(serve: ProcessIdentity | number): boolean {
  const pid = typeof serve === 'number' ? serve : serve.pid;
  const now = identityOf(pid);
  if (!now || (typeof serve !== 'number' && now.startTicks !== serve.startTicks)) return false;
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return argv.some((a) => a.endsWith('virtnet.ts')) && argv.includes('serve');
  } catch {
    return false;
  }
}

export interface SpawnedServe extends ProcessIdentity {
  /** The exit code if the process ended while we still hold it, else null. */
  exited: () => number | null;
}

/** Starts the serve process in its own session with output to the log file; returns at once. */
export function spawnServe(settings: ServeSettings, env: NodeJS.ProcessEnv = process.env): SpawnedServe {
  const argv = serveArgv(settings, nodeFor(settings.virtnetDir), settings.virtnetDir);
  const log = openForWriting(settings.logFile, { append: true });
  try {
    // The release key goes through the environment, never argv: /proc/<pid>/cmdline is world-readable.
    const childEnv = settings.releaseKey ? { ...env, [RELEASE_KEY_ENV]: settings.releaseKey } : env;
    const { pid, exitCode } = spawnDetached(argv, { logFd: log, cwd: settings.virtnetDir, env: childEnv });
    // Taken at once, while the process is surely ours: the post step checks it before signalling.
    const identity = identityOf(pid);
    return { pid, startTicks: identity?.startTicks ?? '', exited: exitCode };
  } finally {
    closeSync(log);
  }
}

/** The endpoint file, or null while it is absent or still being replaced; a malformed one throws. */
export function readEndpointFile(path: string): EndpointFile | null {
  let text: string;
  try {
    text = readRegularFile(path, { maxBytes: ENDPOINT_MAX_BYTES });
  } catch (e) {
    if (e instanceof UnsafeFileError) throw e;
    return null;
  }
  return parseEndpointFile(text, path);
}

/** Waits until the serve process wrote its endpoint, or fails with the tail of its log. */
export async function waitForEndpoint(
  settings: ServeSettings,
  served: SpawnedServe,
  timeoutMs: number,
): Promise<EndpointFile> {
  const deadline = performance.now() + timeoutMs;
  for (let i = 0; performance.now() < deadline && i < timeoutMs / 100 + 10; i++) {
    const info = readEndpointFile(settings.endpointFile);
    if (info && info.pid === served.pid) return info;
    const code = served.exited();
    if (code !== null || identityOf(served.pid) === null) {
      // A process that has exited but is not reaped yet is already gone to identityOf; its exit
      // code arrives when Node reaps it, a moment later (bounded: 1 s).
      let exitCode = code;
      for (let j = 0; exitCode === null && j < 20; j++) {
        await sleep(50);
        exitCode = served.exited();
      }
      throw new Error(
        `virtnet serve exited (code ${exitCode ?? '?'}) before ${settings.environment} was ready:\n${tail(settings.logFile)}`,
      );
    }
    await sleep(100);
  }
  throw new Error(
    `${settings.environment} was not ready within ${Math.round(timeoutMs / 1000)} s:\n${tail(settings.logFile)}`,
  );
}

/** No client asked for the environment within the client deadline after it was ready. */
export class NoClientError extends Error {
  override name = 'NoClientError';
}

/**
 * Waits for the client's release (the marker the serve process writes), bounded; false on timeout.
 * With a client deadline, also fails (NoClientError) when no client has asked for status (the asked
 * marker the serve process writes) within that time: a client job that died before its sweep, or
 * never started, must not keep the server holding for the whole wait.
 */
export async function waitForRelease(
  endpointFile: string,
  serve: ProcessIdentity,
  timeoutMs: number,
  pollMs = 1000,
  clientDeadlineMs: number | null = null,
): Promise<boolean> {
  const marker = releasedMarker(endpointFile);
  const started = performance.now();
  const deadline = started + timeoutMs;
  while (performance.now() < deadline) {
    if (existsSync(marker)) return true;
    if (!isServeProcess(serve))
      throw new Error(`virtnet serve (PID ${serve.pid}) ended before the client released the environment`);
    if (
      clientDeadlineMs !== null &&
      performance.now() - started > clientDeadlineMs &&
      !existsSync(askedMarker(endpointFile))
    ) {
      const within =
        clientDeadlineMs < 120_000
          ? `${Math.round(clientDeadlineMs / 1000)} s`
          : `${Math.round(clientDeadlineMs / 60_000)} min`;
      throw new NoClientError(`no client asked for the environment within ${within} after it was ready`);
    }
    await sleep(pollMs);
  }
  return existsSync(marker);
}

export type StopOutcome =
  { kind: 'not-running' } | { kind: 'stopped'; seconds: number } | { kind: 'killed'; seconds: number };

/** SIGTERM (the serve process tears down), then SIGKILL after graceMs. */
export async function stopServe(serve: ProcessIdentity | number, graceMs: number): Promise<StopOutcome> {
  if (!isServeProcess(serve)) return { kind: 'not-running' };
  const pid = typeof serve === 'number' ? serve : serve.pid;
  const started = performance.now();
  process.kill(pid, 'SIGTERM');
  while (performance.now() - started < graceMs) {
    if (!isServeProcess(serve)) return { kind: 'stopped', seconds: (performance.now() - started) / 1000 };
    await sleep(200);
  }
  if (isServeProcess(serve)) process.kill(pid, 'SIGKILL');
  return { kind: 'killed', seconds: (performance.now() - started) / 1000 };
}
