// A leg whose client goes silent and whose release is lost: the server job must free the pair
// within its release wait, not hold it for hours. Real parts on a real testbed: start-environment's
// main (with the real serve launcher: a detached `virtnet serve` of native), the coordinator on the
// server's testbed address, the post step. The client is this test: it hears the heartbeats while
// the host "prepares" (a prepare command that takes a few seconds), asks once the environment is
// live, and then neither sweeps nor releases. A second leg shows the client's retried release: the
// first attempts are lost, a later one arrives and the server lets go at once.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommand } from './lib/core/proc.ts';
import { askCoordinator, releaseRequest, releaseWithRetry } from './lib/measure/coordinator.ts';
import { isServeProcess } from './start-environment/src/serve-process.ts';
import { recordingIO } from './lib/testing/action-io.ts';
import { netserverMissing, requireServices, rootMissing, skipNote } from './lib/testing/requirements.ts';
import { run, STATE_PID } from './start-environment/src/main.ts';
import { runPost } from './start-environment/src/post.ts';
import { testbedForTests } from './lib/testing/testbeds.ts';
import type { Testbed } from '../env/testbed/testbed.ts';

const REPO = join(import.meta.dirname, '..');
const missing = requireServices([
  ['root', rootMissing()],
  ['netserver', await netserverMissing()],
]);

async function listening(address: string, port: number): Promise<boolean> {
  const r = await runCommand(['ss', '-Hltn', `src ${address}:${port}`], { timeoutMs: 5000 });
  return r.stdout.trim() !== '';
}

describe.skipIf(missing !== null)(
  `a silent client and a lost release free the pair within the bound${skipNote(missing)}`,
  () => {
    let testbed: Testbed;
    let temp: string;
    const started: number[] = [];
    beforeAll(async () => {
      testbed = await testbedForTests(14);
      temp = mkdtempSync(join(tmpdir(), 'virtnet-liveness-'));
    });
    afterAll(async () => {
      // Only when a test failed half-way: the serve processes it started, by PID.
      for (const pid of started.filter((p) => isServeProcess(p))) {
        process.kill(pid, 'SIGTERM');
        for (let i = 0; i < 100 && isServeProcess(pid); i++) await new Promise((r) => setTimeout(r, 100));
      }
      if (temp) rmSync(temp, { recursive: true, force: true });
    });

    const runKey = '77-1';
    const releaseKey = 'beef'.repeat(8);
    const leg = (extra: Record<string, string>) =>
      recordingIO(
        {
          environment: 'native',
          'server-address': testbed.layout.serverAddress,
          'testbed-index': String(testbed.layout.index),
          'ready-timeout': '30',
          'client-deadline': '1',
          'run-key': runKey,
          'release-key': releaseKey,
          prepare: 'sleep 4',
          ...extra,
        },
        { env: { ...process.env, GITHUB_WORKSPACE: REPO, RUNNER_TEMP: temp, GITHUB_RUN_ATTEMPT: '1' } },
      );

    it('the server answers with heartbeats while it prepares, then frees the pair one release wait after the client fell silent', async () => {
      const address = testbed.layout.serverAddress;
      const io = leg({ 'wait-for-release': '1' });
      const t0 = performance.now();
      const server = run(io);
      // The client's side: heartbeats while the host prepares and the environment starts, then the status.
      const heard: string[] = [];
      let liveAt = 0;
      for (let i = 0; i < 600 && liveAt === 0; i++) {
        const answer = await askCoordinator(address, 12867, 'status', 2000).catch(() => null);
        if (answer && !answer.ok && answer.heartbeat) heard.push(answer.heartbeat.phase);
        if (answer?.ok && answer.status.runKey === runKey) liveAt = performance.now();
        else await new Promise((r) => setTimeout(r, 100));
      }
      expect(liveAt, JSON.stringify({ failed: io.failed, log: io.log, heard: heard.slice(0, 3) })).toBeGreaterThan(0);
      expect(heard.some((p) => p.startsWith('preparing the host'))).toBe(true);
      // From here the client is silent: no sweep, and its release never arrives.
      started.push(Number(io.state[STATE_PID]));
      await server;
      const heldFor = (performance.now() - liveAt) / 1000;
      expect(io.failed).toBe(
        'the client did not release native within 1 min (wait-for-release); the post step tears it down',
      );
      // The bound: the release wait (60 s) from when the environment was ready, plus a poll of slack.
      expect(heldFor).toBeGreaterThanOrEqual(58);
      expect(heldFor).toBeLessThan(60 + 10);
      const post = recordingIO({}, { state: io.state });
      await runPost(post);
      const freedAfter = (performance.now() - liveAt) / 1000;
      expect(post.log[0]!.message).toMatch(/^environment torn down in/);
      // The pair is free: no serve process, no coordinator, no netserver on the server's address.
      expect(isServeProcess(Number(io.state[STATE_PID]))).toBe(false);
      expect(await listening(address, 12867)).toBe(false);
      expect(await listening(address, 12865)).toBe(false);
      expect(freedAfter).toBeLessThan(60 + 30);
      console.log(
        `liveness: ready after ${((liveAt - t0) / 1000).toFixed(1)} s (${heard.length} heartbeats heard), held ${heldFor.toFixed(1)} s, free ${freedAfter.toFixed(1)} s after ready (bound 60 s + teardown)`,
      );
    }, 200_000);

    it('a release retried after lost attempts reaches the server, which lets go at once', async () => {
      const address = testbed.layout.serverAddress;
      const io = leg({ 'wait-for-release': '5', prepare: '' });
      const server = run(io);
      for (let i = 0; i < 600; i++) {
        const answer = await askCoordinator(address, 12867, 'status', 2000).catch(() => null);
        if (answer?.ok) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      started.push(Number(io.state[STATE_PID]));
      let attempts = 0;
      const t = performance.now();
      // The first two attempts are lost on the way; the third is the real request.
      const outcome = await releaseWithRetry(
        async () => {
          if (++attempts <= 2) throw new Error('no answer within 5000 ms');
          return askCoordinator(address, 12867, releaseRequest('native', runKey, releaseKey), 5000);
        },
        [500, 1000, 2000],
        (ms) => new Promise((r) => setTimeout(r, ms)),
      );
      expect(outcome).toMatchObject({ ok: true, status: { released: true } });
      expect(attempts).toBe(3);
      await server;
      expect(io.failed).toBeNull();
      expect(io.outputs.released).toBe('true');
      // Released 1.5 s after the first attempt (two pauses), not 5 minutes later.
      expect((performance.now() - t) / 1000).toBeLessThan(10);
      await runPost(recordingIO({}, { state: io.state }));
      expect(await listening(address, 12867)).toBe(false);
      expect(readFileSync(join(temp, 'virtnet-serve-native.log'), 'utf8')).toMatch(/released by the client/);
    }, 120_000);
  },
);
