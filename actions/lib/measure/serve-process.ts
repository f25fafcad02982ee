// The start-environment action's edge: run `virtnet serve` detached (so the environment outlives
// the action's main step), wait for its endpoint file, and later stop it by PID. Every wait is
// bounded; a PID is signalled only while /proc shows it is still our serve process.

import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sleep } from '../core/proc.ts';

/** What `virtnet serve` is started with (the start-environment action's settings are one). */
export interface ServeSettings {
  environment: string;
  serverAddress: string;
  testbedIndex: number;
  controlPort: number;
  dataPort: number;
  coordinatorPort: number;
  readyTimeoutSeconds: number;
  holdTimeoutMinutes: number;
  accelerator: string;
  osvImage: string | null;
  virtnetDir: string;
  endpointFile: string;
  logFile: string;
  /** The run the environment serves (the coordinator tells clients); null: any. */
  runKey?: string | null;
  /** The per-run secret a client must present to release; passed in the environment, never argv. */
  releaseKey?: string | null;
}

export interface EndpointInfo {
  pid: number;
  environment: string;
  endpoint: { address: string; controlPort: number; dataPort: number };
  coordinatorPort: number | null;
  description: { summary: string; accelerator: string; startupSeconds: number | null } & Record<string, unknown>;
}

/** The Node that runs the checkout's TypeScript: its pinned one when installed, else ours (Node 24 strips types). */
export function nodeFor(virtnetDir: string, fallback = process.execPath): string {
  const pinned = join(virtnetDir, 'node_modules', '.bin', 'node');
  return existsSync(pinned) ? pinned : fallback;
}

export function serveArgv(settings: ServeSettings, node: string): string[] {
  const argv = [
    node, join(settings.virtnetDir, 'scripts', 'virtnet.ts'), 'serve',
    '--env', settings.environment,
    '--index', String(settings.testbedIndex),
    '--server', settings.serverAddress,
    '--endpoint-file', settings.endpointFile,
    '--control-port', String(settings.controlPort),
    '--data-port', String(settings.dataPort),
    '--coordinator-port', String(settings.coordinatorPort),
    '--ready-timeout', String(settings.readyTimeoutSeconds),
    '--hold-timeout', String(settings.holdTimeoutMinutes),
    '--accel', settings.accelerator,
  ];
  if (settings.osvImage) argv.push('--osv-image', settings.osvImage);
  if (settings.runKey) argv.push('--run-key', settings.runKey);
  return argv;
}

function tail(path: string, lines = 15): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** True while pid is a live `virtnet ... serve` process (guards against a reused PID). */
export function isServeProcess(pid: number): boolean {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const state = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const zombie = state.slice(state.lastIndexOf(')') + 2).startsWith('Z');
    return !zombie && argv.some((a) => a.endsWith('virtnet.ts')) && argv.includes('serve');
  } catch {
    return false;
  }
}

export interface SpawnedServe {
  pid: number;
  /** Resolves with the exit code if the process ends while we still hold it. */
  exited: () => number | null;
}

/** Starts the serve process in its own session with output to the log file; returns at once. */
export function spawnServe(settings: ServeSettings, env: NodeJS.ProcessEnv = process.env): SpawnedServe {
  const argv = serveArgv(settings, nodeFor(settings.virtnetDir));
  const log = openSync(settings.logFile, 'a');
  try {
    const childEnv = settings.releaseKey ? { ...env, VIRTNET_RELEASE_KEY: settings.releaseKey } : env;
    const child = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: ['ignore', log, log], cwd: settings.virtnetDir, env: childEnv });
    if (child.pid === undefined) throw new Error(`could not start ${argv.slice(0, 3).join(' ')}: see ${settings.logFile}`);
    let code: number | null = null;
    child.once('exit', (c, s) => (code = c ?? (s ? 128 : 1)));
    child.unref();
    return { pid: child.pid, exited: () => code };
  } finally {
    closeSync(log);
  }
}

export function readEndpointFile(path: string): EndpointInfo | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as EndpointInfo;
  } catch {
    return null;
  }
}

/** Waits until the serve process wrote its endpoint, or fails with the tail of its log. */
export async function waitForEndpoint(settings: ServeSettings, served: SpawnedServe, timeoutMs: number): Promise<EndpointInfo> {
  const deadline = performance.now() + timeoutMs;
  for (let i = 0; performance.now() < deadline && i < timeoutMs / 100 + 10; i++) {
    const info = readEndpointFile(settings.endpointFile);
    if (info && info.pid === served.pid) return info;
    const code = served.exited();
    if (code !== null || !isAlive(served.pid)) {
      throw new Error(`virtnet serve exited (code ${code ?? '?'}) before ${settings.environment} was ready:\n${tail(settings.logFile)}`);
    }
    await sleep(100);
  }
  throw new Error(`${settings.environment} was not ready within ${Math.round(timeoutMs / 1000)} s:\n${tail(settings.logFile)}`);
}

/** No client asked for the environment within the client deadline after it was ready. */
export class NoClientError extends Error {
  override name = 'NoClientError';
}

/**
 * Waits for the client's release (the marker the serve process writes), bounded; false on timeout.
 * With a client deadline, also fails (NoClientError) when no client has asked for status (the
 * askedMarker the serve process writes) within that time: a client job that died before its sweep,
 * or never started, must not keep the server holding for the whole wait.
 */
export async function waitForRelease(markerPath: string, pid: number, timeoutMs: number, pollMs = 1000, client: { askedMarker: string; deadlineMs: number } | null = null): Promise<boolean> {
  const started = performance.now();
  const deadline = started + timeoutMs;
  while (performance.now() < deadline) {
    if (existsSync(markerPath)) return true;
    if (!isServeProcess(pid)) throw new Error(`virtnet serve (PID ${pid}) ended before the client released the environment`);
    if (client && performance.now() - started > client.deadlineMs && !existsSync(client.askedMarker)) {
      const within = client.deadlineMs < 120_000 ? `${Math.round(client.deadlineMs / 1000)} s` : `${Math.round(client.deadlineMs / 60_000)} min`;
      throw new NoClientError(`no client asked for the environment within ${within} after it was ready`);
    }
    await sleep(pollMs);
  }
  return existsSync(markerPath);
}

export type StopOutcome = { kind: 'not-running' } | { kind: 'stopped'; seconds: number } | { kind: 'killed'; seconds: number };

/** SIGTERM (the serve process tears down), then SIGKILL after graceMs. */
export async function stopServe(pid: number, graceMs: number): Promise<StopOutcome> {
  if (!isServeProcess(pid)) return { kind: 'not-running' };
  const started = performance.now();
  process.kill(pid, 'SIGTERM');
  while (performance.now() - started < graceMs) {
    if (!isServeProcess(pid)) return { kind: 'stopped', seconds: (performance.now() - started) / 1000 };
    await sleep(200);
  }
  if (isServeProcess(pid)) process.kill(pid, 'SIGKILL');
  return { kind: 'killed', seconds: (performance.now() - started) / 1000 };
}
