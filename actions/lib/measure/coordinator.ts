// The coordinator: a one-line TCP protocol on the testbed link between the server job and the
// client job of one environment. The client asks which environment is live (so it never measures a
// leftover one) and, when its sweep ends, releases it (so the server can tear it down). One request
// per connection, one JSON line back; input bounded in size and time.
//
// Which run: the status names the run the environment serves (its run key), so a client of another
// run, or of another leg that GitHub mixed up (actions/runner#2475), never measures it. Who may
// release: when the server holds a release key (a per-run secret the workflow hands to both jobs),
// only `release <environment> <run key> <release key>` with that run and that key releases.

import { createHash, timingSafeEqual } from 'node:crypto';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import type { Endpoint } from './netperf.ts';
import type { EnvironmentDescription, HostInfo } from './records.ts';

export interface CoordinatorStatus {
  environment: string;
  endpoint: Endpoint;
  /** True once a client has released the environment. */
  released: boolean;
  /** The server's description of the environment (versions, settings) for the client's manifest. */
  description: EnvironmentDescription | null;
  /** The server host's metadata (CPU, kernel, sysctls): the client's manifest records it as the server. */
  host: HostInfo | null;
  /** The run this environment serves (the workflow's run key); absent or null: any run. */
  runKey?: string | null;
}

export type CoordinatorRequest = { kind: 'status' } | { kind: 'release'; environment: string; runKey?: string; releaseKey?: string };

const RUN_KEY = /^[A-Za-z0-9._-]{1,100}$/;
const RELEASE_KEY = /^[A-Za-z0-9]{16,128}$/;

/** The release request a client sends: with its run key and release key when it has them. */
export function releaseRequest(environment: string, runKey: string | null = null, releaseKey: string | null = null): string {
  return runKey !== null && releaseKey !== null ? `release ${environment} ${runKey} ${releaseKey}` : `release ${environment}`;
}

function sameSecret(a: string, b: string): boolean {
  // Hashes of equal length, so the comparison takes the same time whatever was sent.
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

export type CoordinatorResponse = { ok: true; status: CoordinatorStatus } | { ok: false; error: string };

const MAX_REQUEST_BYTES = 256;

export function parseCoordinatorRequest(line: string): CoordinatorRequest {
  const words = line.trim().split(/\s+/);
  if (words.length === 1 && words[0] === 'status') return { kind: 'status' };
  if (words.length === 2 && words[0] === 'release' && /^[a-z0-9-]{1,40}$/.test(words[1]!)) return { kind: 'release', environment: words[1]! };
  if (words.length === 4 && words[0] === 'release' && /^[a-z0-9-]{1,40}$/.test(words[1]!) && RUN_KEY.test(words[2]!) && RELEASE_KEY.test(words[3]!)) {
    return { kind: 'release', environment: words[1]!, runKey: words[2]!, releaseKey: words[3]! };
  }
  // The line is not echoed whole: it may hold a key.
  throw new Error(`coordinator: unknown request ${JSON.stringify(words[0]?.slice(0, 20) ?? '')}: expected "status" or "release <environment> [<run key> <release key>]"`);
}

/**
 * The server's answer to one request. `release` only releases the environment that is live, of the
 * run it serves, and, when the server holds a release key, only for a client that presents it.
 */
export function answerRequest(status: CoordinatorStatus, request: CoordinatorRequest, releaseKey: string | null = null): CoordinatorResponse {
  if (request.kind === 'status') return { ok: true, status };
  if (request.environment !== status.environment) {
    return { ok: false, error: `cannot release ${request.environment}: the live environment is ${status.environment}` };
  }
  const runKey = status.runKey ?? null;
  if (runKey !== null && request.runKey !== undefined && request.runKey !== runKey) {
    return { ok: false, error: `cannot release ${request.environment}: it serves run ${runKey}, not run ${request.runKey}` };
  }
  if (releaseKey !== null && (request.releaseKey === undefined || request.runKey === undefined || !sameSecret(request.releaseKey, releaseKey))) {
    return { ok: false, error: `cannot release ${request.environment}: ${request.releaseKey === undefined ? 'no release key given' : 'wrong release key'} (the workflow hands this run's key to its client job)` };
  }
  return { ok: true, status: { ...status, released: true } };
}

export interface RunningCoordinator {
  server: Server;
  port: number;
  close(): Promise<void>;
}

/**
 * Listens on address:port; onRelease runs once, on the first valid release; onStatus on every
 * status request (the server job learns that a client is there).
 */
export async function startCoordinator(options: { address: string; port: number; status: CoordinatorStatus; onRelease: () => void; onStatus?: () => void; releaseKey?: string | null }): Promise<RunningCoordinator> {
  let status = options.status;
  const handle = (socket: Socket) => {
    let buffer = '';
    socket.setEncoding('utf8');
    socket.setTimeout(5000, () => socket.destroy());
    socket.on('error', () => {});
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      if (buffer.length > MAX_REQUEST_BYTES) {
        socket.end(`${JSON.stringify({ ok: false, error: 'request too long' })}\n`);
        return;
      }
      const newline = buffer.indexOf('\n');
      if (newline < 0) return;
      let response: CoordinatorResponse;
      try {
        const request = parseCoordinatorRequest(buffer.slice(0, newline));
        response = answerRequest(status, request, options.releaseKey ?? null);
        if (request.kind === 'status') options.onStatus?.();
      } catch (e) {
        response = { ok: false, error: (e as Error).message };
      }
      if (response.ok && response.status.released && !status.released) {
        status = response.status;
        options.onRelease();
      }
      socket.end(`${JSON.stringify(response)}\n`);
    });
  };
  const server = createServer(handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.address, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  return {
    server,
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Sends one request and returns the parsed answer; throws on connection errors and timeouts. */
export function askCoordinator(address: string, port: number, request: string, timeoutMs = 5000): Promise<CoordinatorResponse> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: address, port });
    let data = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`coordinator ${address}:${port}: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(`${request}\n`));
    socket.on('data', (chunk: string) => (data += chunk.slice(0, 64 * 1024)));
    socket.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`coordinator ${address}:${port}: ${e.message}`));
    });
    socket.on('close', () => {
      clearTimeout(timer);
      const line = data.split('\n')[0] ?? '';
      try {
        resolve(JSON.parse(line) as CoordinatorResponse);
      } catch {
        reject(new Error(`coordinator ${address}:${port}: unreadable answer ${JSON.stringify(line.slice(0, 80))}`));
      }
    });
  });
}
