import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  answerRequest,
  askCoordinator,
  type CoordinatorStatus,
  parseCoordinatorRequest,
  releaseRequest,
  startCoordinator,
} from './coordinator.ts';
import { statusProblem } from '../../../env/external/external.ts';

const status: CoordinatorStatus = {
  environment: 'kvm',
  endpoint: { address: '127.0.0.1', controlPort: 12865, dataPort: 12866 },
  released: false,
  description: null,
  host: null,
};

describe('coordinator protocol (pure)', () => {
  it('parses the two requests and refuses anything else', () => {
    expect(parseCoordinatorRequest('status')).toEqual({ kind: 'status' });
    expect(parseCoordinatorRequest(' release kvm \r')).toEqual({ kind: 'release', environment: 'kvm' });
    expect(() => parseCoordinatorRequest('release')).toThrow(
      /unknown request "release": expected "status" or "release <environment> \[<run key> <release key>\]"/,
    );
    expect(() => parseCoordinatorRequest('GET / HTTP/1.1')).toThrow(/unknown request/);
  });
  it('releases only the live environment', () => {
    expect(answerRequest(status, { kind: 'release', environment: 'kvm' })).toEqual({
      ok: true,
      status: { ...status, released: true },
    });
    expect(answerRequest(status, { kind: 'release', environment: 'osv' })).toEqual({
      ok: false,
      error: 'cannot release osv: the live environment is kvm',
    });
  });
  it('a release with a run key and a release key: only that run, only with that key, and the key is never echoed', () => {
    const key = 'a1'.repeat(16);
    const ours: CoordinatorStatus = { ...status, runKey: '1234-1' };
    expect(parseCoordinatorRequest(releaseRequest('kvm', '1234-1', key))).toEqual({
      kind: 'release',
      environment: 'kvm',
      runKey: '1234-1',
      releaseKey: key,
    });
    expect(releaseRequest('kvm')).toBe('release kvm');
    expect(
      answerRequest(ours, { kind: 'release', environment: 'kvm', runKey: '1234-1', releaseKey: key }, key),
    ).toEqual({ ok: true, status: { ...ours, released: true } });
    expect(answerRequest(ours, { kind: 'release', environment: 'kvm', runKey: '999-1', releaseKey: key }, key)).toEqual(
      { ok: false, error: 'cannot release kvm: it serves run 1234-1, not run 999-1' },
    );
    expect(
      answerRequest(ours, { kind: 'release', environment: 'kvm', runKey: '1234-1', releaseKey: 'b2'.repeat(16) }, key),
    ).toEqual({
      ok: false,
      error: "cannot release kvm: wrong release key (the workflow hands this run's key to its client job)",
    });
    expect(answerRequest(ours, { kind: 'release', environment: 'kvm' }, key)).toEqual({
      ok: false,
      error: "cannot release kvm: no release key given (the workflow hands this run's key to its client job)",
    });
    // Without a key on the server (virtnet serve by hand), a plain release still works.
    expect(answerRequest(ours, { kind: 'release', environment: 'kvm' })).toMatchObject({ ok: true });
    const bad = () => parseCoordinatorRequest(`release kvm 1234-1 ${key}x!`);
    expect(bad).toThrow(/unknown request "release"/);
    expect(bad).not.toThrow(new RegExp(key));
  });
  it('the client measures only the environment it asked for, of its own run', () => {
    const ports = { control: 12865, data: 12866 };
    expect(statusProblem({ ...status, runKey: '1234-1' }, 'kvm', ports, '1234-1')).toBeNull();
    expect(statusProblem({ ...status, runKey: '1234-2' }, 'kvm', ports, '1234-1')).toBe(
      "the server's kvm serves run 1234-2, not this run (1234-1)",
    );
    expect(statusProblem(status, 'kvm', ports, '1234-1')).toBe(
      "the server's kvm serves no named run, not this run (1234-1)",
    );
  });
  it('the client measures only the environment it asked for, on the plan ports, not yet released', () => {
    const ports = { control: 12865, data: 12866 };
    expect(statusProblem(status, 'kvm', ports)).toBeNull();
    expect(statusProblem(status, 'docker', ports)).toBe('the server has kvm live, not docker');
    expect(statusProblem({ ...status, released: true }, 'kvm', ports)).toBe(
      'kvm was already released by another client',
    );
    expect(statusProblem(status, 'kvm', { control: 2000, data: 2001 })).toBe(
      'the server serves ports 12865/12866 but the plan uses 2000/2001',
    );
  });
});

describe('coordinator over TCP (loopback)', () => {
  it('answers status, releases once, refuses junk and oversized requests', async () => {
    let releases = 0;
    const c = await startCoordinator({ address: '127.0.0.1', port: 0, status, onRelease: () => releases++ });
    try {
      expect(await askCoordinator('127.0.0.1', c.port, 'status')).toEqual({ ok: true, status });
      expect(await askCoordinator('127.0.0.1', c.port, 'release osv')).toEqual({
        ok: false,
        error: 'cannot release osv: the live environment is kvm',
      });
      expect(await askCoordinator('127.0.0.1', c.port, 'release kvm')).toMatchObject({
        ok: true,
        status: { released: true },
      });
      expect(await askCoordinator('127.0.0.1', c.port, 'release kvm')).toMatchObject({ ok: true });
      expect(releases).toBe(1);
      expect(await askCoordinator('127.0.0.1', c.port, 'status')).toMatchObject({
        ok: true,
        status: { released: true },
      });
      expect(await askCoordinator('127.0.0.1', c.port, 'x'.repeat(300))).toEqual({
        ok: false,
        error: 'request too long',
      });
    } finally {
      await c.close();
    }
  });
  it('with a release key: refuses a release without it, releases with it, and reports each status request', async () => {
    const key = '0123456789abcdef0123456789abcdef';
    let releases = 0;
    let asked = 0;
    const c = await startCoordinator({
      address: '127.0.0.1',
      port: 0,
      status: { ...status, runKey: '77-1' },
      releaseKey: key,
      onRelease: () => releases++,
      onStatus: () => asked++,
    });
    try {
      expect(await askCoordinator('127.0.0.1', c.port, 'status')).toMatchObject({
        ok: true,
        status: { runKey: '77-1' },
      });
      expect(asked).toBe(1);
      expect(await askCoordinator('127.0.0.1', c.port, 'release kvm')).toMatchObject({
        ok: false,
        error: expect.stringMatching(/no release key given/),
      });
      expect(await askCoordinator('127.0.0.1', c.port, releaseRequest('kvm', '77-1', 'f'.repeat(32)))).toMatchObject({
        ok: false,
        error: expect.stringMatching(/wrong release key/),
      });
      expect(releases).toBe(0);
      expect(await askCoordinator('127.0.0.1', c.port, releaseRequest('kvm', '77-1', key))).toMatchObject({
        ok: true,
        status: { released: true },
      });
      expect(releases).toBe(1);
      expect(asked).toBe(1);
    } finally {
      await c.close();
    }
  });
  it('a client gets a clear error when nothing listens or nothing answers', async () => {
    const silent = createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const port = (silent.address() as { port: number }).port;
    try {
      await expect(askCoordinator('127.0.0.1', port, 'status', 300)).rejects.toThrow(
        `coordinator 127.0.0.1:${port}: no answer within 300 ms`,
      );
    } finally {
      silent.close();
    }
    await expect(askCoordinator('127.0.0.1', port, 'status', 1000)).rejects.toThrow(/ECONNREFUSED/);
  });
});
