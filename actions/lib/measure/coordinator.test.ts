import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { answerRequest, askCoordinator, type CoordinatorStatus, parseCoordinatorRequest, startCoordinator } from './coordinator.ts';
import { statusProblem } from '../../../env/external/external.ts';

const status: CoordinatorStatus = { environment: 'kvm', endpoint: { address: '127.0.0.1', controlPort: 12865, dataPort: 12866 }, released: false, description: null, host: null };

describe('coordinator protocol (pure)', () => {
  it('parses the two requests and refuses anything else', () => {
    expect(parseCoordinatorRequest('status')).toEqual({ kind: 'status' });
    expect(parseCoordinatorRequest(' release kvm \r')).toEqual({ kind: 'release', environment: 'kvm' });
    expect(() => parseCoordinatorRequest('release')).toThrow(/unknown request "release": expected "status" or "release <environment>"/);
    expect(() => parseCoordinatorRequest('GET / HTTP/1.1')).toThrow(/unknown request/);
  });
  it('releases only the live environment', () => {
    expect(answerRequest(status, { kind: 'release', environment: 'kvm' })).toEqual({ ok: true, status: { ...status, released: true } });
    expect(answerRequest(status, { kind: 'release', environment: 'osv' })).toEqual({ ok: false, error: 'cannot release osv: the live environment is kvm' });
  });
  it('the client measures only the environment it asked for, on the plan ports, not yet released', () => {
    const ports = { control: 12865, data: 12866 };
    expect(statusProblem(status, 'kvm', ports)).toBeNull();
    expect(statusProblem(status, 'docker', ports)).toBe('the server has kvm live, not docker');
    expect(statusProblem({ ...status, released: true }, 'kvm', ports)).toBe('kvm was already released by another client');
    expect(statusProblem(status, 'kvm', { control: 2000, data: 2001 })).toBe('the server serves ports 12865/12866 but the plan uses 2000/2001');
  });
});

describe('coordinator over TCP (loopback)', () => {
  it('answers status, releases once, refuses junk and oversized requests', async () => {
    let releases = 0;
    const c = await startCoordinator({ address: '127.0.0.1', port: 0, status, onRelease: () => releases++ });
    try {
      expect(await askCoordinator('127.0.0.1', c.port, 'status')).toEqual({ ok: true, status });
      expect(await askCoordinator('127.0.0.1', c.port, 'release osv')).toEqual({ ok: false, error: 'cannot release osv: the live environment is kvm' });
      expect(await askCoordinator('127.0.0.1', c.port, 'release kvm')).toMatchObject({ ok: true, status: { released: true } });
      expect(await askCoordinator('127.0.0.1', c.port, 'release kvm')).toMatchObject({ ok: true });
      expect(releases).toBe(1);
      expect(await askCoordinator('127.0.0.1', c.port, 'status')).toMatchObject({ ok: true, status: { released: true } });
      expect(await askCoordinator('127.0.0.1', c.port, 'x'.repeat(300))).toEqual({ ok: false, error: 'request too long' });
    } finally {
      await c.close();
    }
  });
  it('a client gets a clear error when nothing listens or nothing answers', async () => {
    const silent = createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const port = (silent.address() as { port: number }).port;
    try {
      await expect(askCoordinator('127.0.0.1', port, 'status', 300)).rejects.toThrow(`coordinator 127.0.0.1:${port}: no answer within 300 ms`);
    } finally {
      silent.close();
    }
    await expect(askCoordinator('127.0.0.1', port, 'status', 1000)).rejects.toThrow(/ECONNREFUSED/);
  });
});
