// The coordinator: a one-line TCP protocol on the testbed link between the server job and the
// client job of one environment. The client asks which environment is live (so it never measures a
// leftover one) and, when its sweep ends, releases it (so the server can tear it down). One request
// per connection, one JSON line back; input bounded in size and time.

import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { type CoordinatorRequest, type CoordinatorResponse, type CoordinatorStatus, MAX_REQUEST_BYTES, parseCoordinatorRequest, parseCoordinatorResponse } from './serve-protocol.ts';

export { parseCoordinatorRequest };
export type { CoordinatorRequest, CoordinatorResponse, CoordinatorStatus };

/** The server's answer to one request; `release` only releases the environment that is live. */
export function answerRequest(status: CoordinatorStatus, request: CoordinatorRequest): CoordinatorResponse {
  if (request.kind === 'status') return { ok: true, status };
  if (request.environment !== status.environment) {
    return { ok: false, error: `cannot release ${request.environment}: the live environment is ${status.environment}` };
  }
  return { ok: true, status: { ...status, released: true } };
}

export interface RunningCoordinator {
  server: Server;
  port: number;
  close(): Promise<void>;
}

/** Listens on address:port; onRelease runs once, on the first valid release. */
export async function startCoordinator(options: { address: string; port: number; status: CoordinatorStatus; onRelease: () => void }): Promise<RunningCoordinator> {
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
        response = answerRequest(status, parseCoordinatorRequest(buffer.slice(0, newline)));
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

/** Sends one request and returns the answer, checked against its schema; throws on connection errors, timeouts and malformed answers. */
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
      try {
        resolve(parseCoordinatorResponse(data.split('\n')[0] ?? '', `${address}:${port}`));
      } catch (e) {
        reject(e);
      }
    });
  });
}
