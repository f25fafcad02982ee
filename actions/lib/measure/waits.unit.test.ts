// The leg's waits: the release wait from the plan with its stated margin, the ready wait counted
// from the last sign of life and capped, the release retries' pauses; and the coordinator's side of
// them: heartbeats while the environment starts, the retried release.

import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { askCoordinator, releaseWithRetry, startCoordinator } from './coordinator.ts';
import {
  RELEASE_MARGIN,
  RELEASE_RETRY,
  releasePauses,
  releaseWaitMinutes,
  SignOfLife,
  worstSweepSeconds,
} from './waits.ts';
import { expandPoints, validatePlan } from '../plan/plan.ts';
import { loadPlan } from '../plan/plan-file.ts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const QUICK = JSON.parse(
  readFileSync(join(import.meta.dirname, '..', '..', '..', 'env', 'plans', 'quick.json'), 'utf8'),
) as Record<string, unknown>;
/** The quick plan (8 points) with 2 replicates of 10 s tests and 5 s of warm-up, changed as asked. */
const plan = (extra: Record<string, unknown> = {}) =>
  validatePlan({ ...QUICK, replicates: 2, testLengthSeconds: 10, warmupSeconds: 5, ...extra });

describe('the release wait', () => {
  it("is the plan's worst-case sweep of one environment, times 1.25, plus 15 minutes", () => {
    const p = plan();
    // 8 points x 2 blocks, each 10 s + 2 s; 2 starts (blocked) of 5 s warm-up + 90 s.
    expect(expandPoints(p)).toHaveLength(8);
    expect(worstSweepSeconds(p)).toBe(8 * 2 * 12 + 2 * 95);
    expect(releaseWaitMinutes(p)).toBe(Math.ceil((382 * 1.25) / 60) + 15);
    expect(RELEASE_MARGIN).toEqual({ factor: 1.25, minutes: 15 });
  });

  it('grows with the blocks a precision target may add and with confidence iterations', () => {
    const base = worstSweepSeconds(plan());
    expect(worstSweepSeconds(plan({ precision: { halfWidthPercent: 2, maxReplicates: 6 } }))).toBe(8 * 6 * 12 + 6 * 95);
    // A time budget bounds the added measurements (1 minute: 6 tests of 10 s), not the added starts.
    expect(worstSweepSeconds(plan({ precision: { halfWidthPercent: 2, maxReplicates: 6, budgetMinutes: 1 } }))).toBe(
      (8 * 2 + 6) * 12 + 6 * 95,
    );
    // Each retake a flagged measurement may get may first wait for a quiet host, at most retakeQuietSeconds.
    expect(worstSweepSeconds(plan({ interference: { remeasureFlagged: 2, retakeQuietSeconds: 20 } }))).toBe(
      8 * 2 * 3 * 12 + 8 * 2 * 2 * 20 + 2 * 95,
    );
    const paper = loadPlan('paper', join(import.meta.dirname, '..', '..', '..', 'env', 'plans')).plan;
    expect(worstSweepSeconds(paper)).toBeGreaterThan(base);
  });
});

describe('the ready wait, from the last sign of life', () => {
  it('expires a silence after the last heartbeat, never later than the cap', () => {
    const life = new SignOfLife(0, 10_000, 60_000);
    expect(life.expired(9_999)).toBeNull();
    expect(life.expired(10_000)).toBe('no sign of the server within 10 s');
    life.heard(8_000);
    expect(life.expired(17_999)).toBeNull();
    expect(life.expired(18_000)).toBe('the server fell silent: no heartbeat for 10 s');
    for (let t = 8_000; t <= 58_000; t += 5_000) life.heard(t);
    expect(life.deadline()).toBe(60_000);
    expect(life.expired(60_000)).toBe('no ready environment within 60 s in all');
  });
});

describe('the release retries', () => {
  it('double from 1 s up to 30 s, within two minutes in all', () => {
    const pauses = releasePauses();
    expect(pauses).toEqual([1000, 2000, 4000, 8000, 16_000, 30_000, 30_000]);
    expect(pauses.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(RELEASE_RETRY.budgetMs);
  });

  it('retry errors only: an answer, even a refusal, ends the retries', async () => {
    const slept: number[] = [];
    let tries = 0;
    const lost = await releaseWithRetry(
      async () => {
        tries++;
        throw new Error('ECONNREFUSED');
      },
      [1, 2, 4],
      async (ms) => void slept.push(ms),
    );
    expect(lost).toEqual({ error: 'ECONNREFUSED (4 attempts)' });
    expect([tries, slept]).toEqual([4, [1, 2, 4]]);
    tries = 0;
    const refused = await releaseWithRetry(
      async () =>
        ++tries < 3 ? Promise.reject(new Error('timeout')) : { ok: false as const, error: 'wrong release key' },
      [1, 1, 1, 1],
      async () => {},
    );
    expect([tries, refused]).toEqual([3, { ok: false, error: 'wrong release key' }]);
  });
});

describe('the coordinator while the environment starts', () => {
  it('answers status with heartbeats and refuses a release until live(), then serves the status', async () => {
    let phase = 'booting the guest';
    const released: string[] = [];
    const c = await startCoordinator({
      address: '127.0.0.1',
      port: 0,
      status: null,
      starting: () => ({ environment: 'osv-vhost', runKey: '9-1', phase, at: new Date().toISOString() }),
      onRelease: () => released.push('x'),
    });
    try {
      expect(await askCoordinator('127.0.0.1', c.port, 'status')).toEqual({
        ok: false,
        error: 'osv-vhost is not ready yet: booting the guest',
        heartbeat: { environment: 'osv-vhost', runKey: '9-1', phase: 'booting the guest', at: expect.any(String) },
      });
      phase = 'waiting for netserver';
      expect(await askCoordinator('127.0.0.1', c.port, 'release osv-vhost')).toEqual({
        ok: false,
        error: 'cannot release osv-vhost: osv-vhost is not ready yet: waiting for netserver',
      });
      c.live({
        environment: 'osv-vhost',
        endpoint: { address: '127.0.0.1', controlPort: 12865, dataPort: 12866 },
        released: false,
        description: null,
        host: null,
        runKey: '9-1',
      });
      expect(await askCoordinator('127.0.0.1', c.port, 'status')).toMatchObject({
        ok: true,
        status: { environment: 'osv-vhost', released: false },
      });
      expect(await askCoordinator('127.0.0.1', c.port, 'release osv-vhost')).toMatchObject({
        ok: true,
        status: { released: true },
      });
      expect(released).toEqual(['x']);
    } finally {
      await c.close();
    }
  });

  it('refuses to start without a status or a heartbeat', async () => {
    const port = await new Promise<number>((r) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => r(p));
      });
    });
    await expect(startCoordinator({ address: '127.0.0.1', port, status: null, onRelease: () => {} })).rejects.toThrow(
      /needs starting\(\) for its heartbeats/,
    );
  });
});
