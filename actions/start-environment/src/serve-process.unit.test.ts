// waitForRelease's client deadline, against a live process that looks like `virtnet ... serve` to
// isServeProcess (a bash whose argv names virtnet.ts and serve), ended by PID afterwards.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { processStartTicks } from '../../lib/core/liveness.ts';
import { NoClientError, type ServeSettings, waitForRelease } from './serve-process.ts';
import { serveArgv } from '../../lib/measure/serve-protocol.ts';

const dir = mkdtempSync(join(tmpdir(), 'virtnet-serve-process-'));
// Its own process group, so that ending it also ends its sleep.
const stand = spawn('bash', ['-c', 'sleep 30; true', 'virtnet.ts', 'serve'], { stdio: 'ignore', detached: true });
// The serve process as the action holds it: PID and start time.
const served = () => ({ pid: stand.pid!, startTicks: processStartTicks(stand.pid!)! });
afterAll(() => {
  process.kill(-stand.pid!, 'SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('waitForRelease', () => {
  it('fails when no client asked within the client deadline', async () => {
    const started = performance.now();
    await expect(waitForRelease(join(dir, 'a'), served(), 10_000, 50, 300)).rejects.toThrow(
      new NoClientError('no client asked for the environment within 0 s after it was ready'),
    );
    expect(performance.now() - started).toBeLessThan(5000);
  });
  it('keeps waiting for the release once a client asked, and returns true on the release', async () => {
    writeFileSync(join(dir, 'b.asked'), 'x');
    setTimeout(() => writeFileSync(join(dir, 'b.released'), 'x'), 600);
    expect(await waitForRelease(join(dir, 'b'), served(), 10_000, 50, 200)).toBe(true);
  });
  it('without a deadline, times out with false', async () => {
    expect(await waitForRelease(join(dir, 'c'), served(), 300, 50)).toBe(false);
  });
});

describe('serveArgv', () => {
  it('passes the run key in argv, never the release key', () => {
    const settings: ServeSettings = {
      environment: 'native',
      serverAddress: '198.18.0.1',
      testbedIndex: 0,
      controlPort: 12865,
      dataPort: 12866,
      coordinatorPort: 12867,
      readyTimeoutSeconds: 30,
      holdTimeoutMinutes: 60,
      accelerator: 'auto',
      osvImage: null,
      virtnetDir: '/v',
      endpointFile: '/e.json',
      logFile: '/l',
      runKey: '5-1',
      releaseKey: 'k'.repeat(32),
    };
    const argv = serveArgv(settings, 'node', settings.virtnetDir);
    expect(argv.slice(-2)).toEqual(['--run-key', '5-1']);
    expect(argv.join(' ')).not.toContain('k'.repeat(32));
  });
});
