// The client's wait for a served environment counts from the server's last heartbeat: a server that
// prepares and boots for longer than the ready timeout, sending heartbeats, is waited for; a silent
// one is given up after the ready timeout; a heartbeat of another run does not count. On loopback,
// with the real coordinator.

import { afterEach, describe, expect, it } from 'vitest';
import { type RunningCoordinator, startCoordinator } from '../../actions/lib/measure/coordinator.ts';
import type { EnvironmentContext } from '../../actions/lib/measure/environment.ts';
import { externalEnvironment } from './external.ts';

const ready = {
  environment: 'kvm',
  endpoint: { address: '127.0.0.1', controlPort: 12865, dataPort: 12866 },
  released: false,
  description: null,
  host: null,
  runKey: '5-1',
};

function context(readyTimeoutMs: number): EnvironmentContext {
  return {
    serverAddress: '127.0.0.1',
    ports: { control: 12865, data: 12866 },
    logDir: '/nonexistent',
    probe: async () => true,
    readyTimeoutMs,
    settings: {},
    log: () => {},
  };
}

describe('external environment: the ready wait from the last heartbeat', () => {
  let coordinator: RunningCoordinator | null = null;
  afterEach(async () => {
    await coordinator?.close();
    coordinator = null;
  });

  it('waits for a server that boots for longer than the ready timeout while it sends heartbeats', async () => {
    coordinator = await startCoordinator({
      address: '127.0.0.1',
      port: 0,
      status: null,
      starting: () => ({ environment: 'kvm', runKey: '5-1', phase: 'booting', at: new Date().toISOString() }),
      onRelease: () => {},
    });
    const live = coordinator;
    // Ready after 2.5 s: five times the client's 500 ms ready timeout.
    const timer = setTimeout(() => live.live(ready), 2500);
    try {
      const driver = externalEnvironment({
        name: 'kvm',
        coordinatorPort: live.port,
        releaseOnStop: false,
        runKey: '5-1',
        pollIntervalMs: 100,
        readyLimitMs: 10_000,
      });
      const started = performance.now();
      await driver.start(context(500));
      expect(performance.now() - started).toBeGreaterThanOrEqual(2400);
    } finally {
      clearTimeout(timer);
    }
  });

  it('gives a silent server up after the ready timeout, and a heartbeat of another run does not count', async () => {
    const silent = externalEnvironment({
      name: 'kvm',
      coordinatorPort: 1,
      releaseOnStop: false,
      runKey: '5-1',
      pollIntervalMs: 100,
      readyLimitMs: 10_000,
    });
    let started = performance.now();
    await expect(silent.start(context(600))).rejects.toThrow(/no sign of the server within 1 s/);
    expect(performance.now() - started).toBeLessThan(3000);

    coordinator = await startCoordinator({
      address: '127.0.0.1',
      port: 0,
      status: null,
      starting: () => ({ environment: 'kvm', runKey: '4-1', phase: 'booting', at: new Date().toISOString() }),
      onRelease: () => {},
    });
    const other = externalEnvironment({
      name: 'kvm',
      coordinatorPort: coordinator.port,
      releaseOnStop: false,
      runKey: '5-1',
      pollIntervalMs: 100,
      readyLimitMs: 10_000,
    });
    started = performance.now();
    await expect(other.start(context(600))).rejects.toThrow(
      /no sign of the server within 1 s; last answer: kvm is not ready yet: booting/,
    );
    expect(performance.now() - started).toBeLessThan(3000);
  });

  it('stops at the limit even while heartbeats keep coming', async () => {
    coordinator = await startCoordinator({
      address: '127.0.0.1',
      port: 0,
      status: null,
      starting: () => ({ environment: 'kvm', runKey: '5-1', phase: 'still booting', at: new Date().toISOString() }),
      onRelease: () => {},
    });
    const driver = externalEnvironment({
      name: 'kvm',
      coordinatorPort: coordinator.port,
      releaseOnStop: false,
      runKey: '5-1',
      pollIntervalMs: 100,
      readyLimitMs: 1500,
    });
    const started = performance.now();
    await expect(driver.start(context(500))).rejects.toThrow(/no ready environment within 2 s in all/);
    expect(performance.now() - started).toBeLessThan(3500);
  });
});
