// Two runner pairs at once, as reproduce.yml's measure matrix runs them: two testbeds (two indexes)
// stand for two pairs, each with its own server address, its own client namespace and its own
// runner temp folder. On each pair, side by side with the other pair, the bundled actions run the
// way measure-pair.yml chains them: for each environment in turn, start-environment (holding until
// released) beside run-sweep (the pair's run key and runner-pair), then start-environment's post
// step, before the next environment starts. Then render-report takes both pairs' runs at once.
// Checked: one run per pair with its own runnerPair, hosts and address; environments one at a time
// within a pair (from the records' times and the sessions); the pairs overlapping in time; a client
// of one pair refused by the other pair's coordinator; nothing of either left running.

import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { netserverMissing, requireServices, rootMissing, skipNote } from './lib/testing/requirements.ts';
import { loadRun, type LoadedRun } from './lib/measure/run-dir.ts';
import { isServeProcess } from './start-environment/src/serve-process.ts';
import { runCommand } from './lib/core/proc.ts';
import { runAction } from './lib/testing/run-action.ts';
import { testbedForTests, testIndex } from './lib/testing/testbeds.ts';
import { type Testbed, testbedDown } from '../env/testbed/testbed.ts';
import { containerName } from '../env/docker/spec.ts';
import { dockerEnvironment } from '../env/docker/docker.ts';

const REPO = join(import.meta.dirname, '..');
const dist = (action: string, entry = 'index.js') => join(REPO, 'actions', action, 'dist', entry);

const docker = await dockerEnvironment.available({});
const missing = requireServices([
  ['root', rootMissing()],
  ['netserver', await netserverMissing()],
  ['dockerd', docker.ok ? null : docker.reason],
]);

/** The environments each pair measures, in this order, one at a time. */
const ENVIRONMENTS = ['native', 'docker'] as const;
/** Test index offsets of the two testbeds, one per pair. */
const OFFSETS = [10, 11] as const;
const WORKFLOW_RUN_KEY = '5150-1';
const RELEASE_KEY = 'c0ffee00'.repeat(4);

interface Pair {
  name: string;
  testbed: Testbed;
  /** The pair's runner temp folder (each runner has its own). */
  temp: string;
  runKey: string;
  runDir: string;
}

interface Leg {
  environment: string;
  serverExit: number | null;
  clientExit: number | null;
  clientStdout: string;
  postExit: number | null;
  servePid: number;
}

describe.skipIf(missing !== null)(
  `two runner pairs measured at once (two testbeds, the bundled actions)${skipNote(missing)}`,
  () => {
    let temp = '';
    const pairs: Pair[] = [];
    const legs = new Map<string, Leg[]>();
    const runs = new Map<string, LoadedRun>();
    let crossPair: { exitCode: number | null; stdout: string } | null = null;

    beforeAll(async () => {
      temp = mkdtempSync(join(tmpdir(), 'virtnet-pairs-'));
      for (const [i, name] of ['alpha', 'beta-2'].entries()) {
        const testbed = await testbedForTests(OFFSETS[i]!);
        const pairTemp = join(temp, name);
        mkdirSync(pairTemp, { recursive: true });
        // The pair's run key, as measure-pair.yml makes it: the workflow's run key, then the pair's name.
        pairs.push({
          name,
          testbed,
          temp: pairTemp,
          runKey: `${WORKFLOW_RUN_KEY}-${name}`,
          runDir: join(pairTemp, 'runs', `${WORKFLOW_RUN_KEY}-${name}`),
        });
      }
    }, 60_000);

    afterAll(async () => {
      // Only if a step failed half-way: end the serve processes this file started (their endpoint
      // files are in this file's temp folder), by PID; then the containers and testbeds of our indexes.
      const ours = readdirSync('/proc')
        .filter((p) => /^\d+$/.test(p))
        .map(Number)
        .filter((pid) => {
          try {
            return temp !== '' && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(`${temp}/`);
          } catch {
            return false;
          }
        });
      for (const pid of ours.filter((p) => isServeProcess(p))) {
        process.kill(pid, 'SIGTERM');
        for (let i = 0; i < 150 && isServeProcess(pid); i++) await new Promise((r) => setTimeout(r, 100));
      }
      for (const offset of OFFSETS)
        await runCommand(['docker', 'rm', '--force', containerName(testIndex(offset))], { timeoutMs: 30_000 });
      for (const offset of OFFSETS) await testbedDown(testIndex(offset));
      if (temp) rmSync(temp, { recursive: true, force: true });
    }, 120_000);

    const step = (
      pair: Pair,
      script: string,
      inputs: Record<string, string>,
      extra: { state?: Record<string, string>; client?: boolean; timeoutMs?: number } = {},
    ) =>
      runAction(script, {
        inputs,
        state: extra.state,
        workspace: REPO,
        runnerTemp: pair.temp,
        prefix: extra.client ? pair.testbed.clientPrefix : [],
        timeoutMs: extra.timeoutMs ?? 120_000,
      });

    /** One pair's measure-pair.yml: each environment's server and client side by side, then the server's post step, one environment after another. */
    async function measurePair(pair: Pair, other: Pair): Promise<Leg[]> {
      const address = pair.testbed.layout.serverAddress;
      const done: Leg[] = [];
      for (const environment of ENVIRONMENTS) {
        const server = step(
          pair,
          dist('start-environment'),
          {
            environment,
            'server-address': address,
            'testbed-index': String(pair.testbed.layout.index),
            'ready-timeout': '90',
            'wait-for-release': '4',
            'run-key': pair.runKey,
            'release-key': RELEASE_KEY,
          },
          { timeoutMs: 300_000 },
        );
        // A client of the other pair (its run key) that landed on this pair's client runner, as when
        // GitHub mixes up jobs of a matrix of called workflows: refused by this pair's coordinator. It
        // runs beside this pair's own client, so the pair does not wait for its refusal (the pairs'
        // measurements are to overlap).
        const misrouted =
          pair.name === 'beta-2' && environment === 'native'
            ? step(
                pair,
                dist('run-sweep'),
                {
                  environment,
                  'server-address': address,
                  plan: 'quick',
                  'run-dir': join(pair.temp, 'misrouted'),
                  'ready-timeout': '20',
                  release: 'false',
                  'run-key': other.runKey,
                  'release-key': RELEASE_KEY,
                  'runner-pair': other.name,
                  upload: 'false',
                },
                { client: true, timeoutMs: 90_000 },
              )
            : null;
        const client = await step(
          pair,
          dist('run-sweep'),
          {
            environment,
            'server-address': address,
            plan: 'quick',
            'run-dir': pair.runDir,
            'ready-timeout': '120',
            'run-key': pair.runKey,
            'release-key': RELEASE_KEY,
            'runner-pair': pair.name,
            upload: 'false',
          },
          { client: true, timeoutMs: 240_000 },
        );
        if (misrouted) {
          const r = await misrouted;
          crossPair = { exitCode: r.exitCode, stdout: r.stdout };
        }
        const s = await server;
        // The server job's post step: the environment is torn down before the next one starts.
        const post = await step(pair, dist('start-environment', 'post.js'), {}, { state: s.state, timeoutMs: 180_000 });
        done.push({
          environment,
          serverExit: s.exitCode,
          clientExit: client.exitCode,
          clientStdout: client.stdout + client.stderr,
          postExit: post.exitCode,
          servePid: Number(s.state['serve-pid'] ?? 0),
        });
      }
      return done;
    }

    it('both pairs measure side by side, each its environments one at a time, with every step succeeding', async () => {
      const [a, b] = pairs as [Pair, Pair];
      const [legsA, legsB] = await Promise.all([measurePair(a, b), measurePair(b, a)]);
      legs.set(a.name, legsA);
      legs.set(b.name, legsB);
      for (const [name, list] of legs) {
        expect(
          list.map((l) => l.environment),
          name,
        ).toEqual([...ENVIRONMENTS]);
        for (const leg of list) {
          expect(leg.clientStdout, `${name} ${leg.environment}`).not.toMatch(/::error::/);
          expect(
            { server: leg.serverExit, client: leg.clientExit, post: leg.postExit },
            `${name} ${leg.environment}`,
          ).toEqual({ server: 0, client: 0, post: 0 });
          expect(isServeProcess(leg.servePid), `${name} ${leg.environment}: serve ended`).toBe(false);
        }
      }
      for (const pair of pairs) runs.set(pair.name, loadRun(pair.runDir));
    }, 900_000);

    it("each pair's run records that pair, both hosts, its own server address, and nothing of the other pair", () => {
      const seen = new Set<string>();
      for (const pair of pairs) {
        const run = runs.get(pair.name)!;
        const other = pairs.find((p) => p !== pair)!;
        const address = pair.testbed.layout.serverAddress;
        const otherAddress = other.testbed.layout.serverAddress;
        seen.add(run.manifest.runId);
        expect(run.manifest.runnerPair).toBe(pair.name);
        expect(run.manifest.environments).toEqual([...ENVIRONMENTS]);
        // Both hosts: the client described itself, the server told its description over the coordinator.
        expect(run.manifest.hosts.client?.role).toBe('client');
        expect(run.manifest.hosts.server?.role).toBe('server');
        expect(run.manifest.hosts.server?.netperfVersion).toBe('2.7.0');
        expect(run.manifest.link?.serverAddress).toBe(address);
        for (const environment of ENVIRONMENTS)
          expect(run.manifest.environmentDescriptions[environment]?.details.servedBy, environment).toBe(address);
        const records = run.results.records;
        expect(records.length).toBe(8 * ENVIRONMENTS.length); // quick: 8 points, 1 replicate
        expect(
          records.filter((r) => r.status === 'ok').length,
          records
            .filter((r) => r.status !== 'ok')
            .map((r) => `${r.pointId}: ${r.error}`)
            .join('\n'),
        ).toBeGreaterThanOrEqual(records.length - 3);
        for (const r of records) {
          expect(r.command).toContain(address);
          expect(r.command).not.toContain(otherAddress);
        }
      }
      expect(seen.size).toBe(2);
    });

    it('within each pair the environments ran one at a time (records and sessions), while the two pairs overlapped', () => {
      const spans: { start: string; end: string }[] = [];
      for (const pair of pairs) {
        const run = runs.get(pair.name)!;
        // One session per run-sweep step, in order, each ended before the next began.
        expect(run.manifest.sessions).toHaveLength(ENVIRONMENTS.length);
        for (const [i, session] of run.manifest.sessions.entries()) {
          expect(session.endReason).toBe('completed');
          if (i > 0)
            expect(
              session.startedAt >= run.manifest.sessions[i - 1]!.endedAt!,
              `${pair.name}: session ${i + 1} started before session ${i} ended`,
            ).toBe(true);
        }
        // Every record of an environment lies after every record of the environment before it.
        for (let i = 1; i < ENVIRONMENTS.length; i++) {
          const before = run.results.records.filter((r) => r.environment === ENVIRONMENTS[i - 1]);
          const after = run.results.records.filter((r) => r.environment === ENVIRONMENTS[i]);
          const lastBefore = before
            .map((r) => r.finishedAt)
            .sort()
            .at(-1)!;
          const firstAfter = after.map((r) => r.startedAt).sort()[0]!;
          expect(
            firstAfter > lastBefore,
            `${pair.name}: ${ENVIRONMENTS[i]} began (${firstAfter}) before ${ENVIRONMENTS[i - 1]} ended (${lastBefore})`,
          ).toBe(true);
        }
        spans.push({ start: run.manifest.sessions[0]!.startedAt, end: run.manifest.sessions.at(-1)!.endedAt! });
      }
      const [x, y] = spans as [{ start: string; end: string }, { start: string; end: string }];
      expect(x.start < y.end && y.start < x.end, `the pairs did not overlap: ${JSON.stringify(spans)}`).toBe(true);
    });

    it("a client of one pair is refused by the other pair's coordinator, and releases nothing", () => {
      const [a, b] = pairs as [Pair, Pair];
      expect(crossPair?.exitCode).toBe(1);
      expect(crossPair?.stdout).toMatch(
        new RegExp(`::error::native could not be measured: .*serves run ${b.runKey}, not this run \\(${a.runKey}\\)`),
      );
      // The misrouted client's run directory holds no measurement.
      const misrouted = join(b.temp, 'misrouted');
      if (existsSync(join(misrouted, 'results.jsonl'))) expect(loadRun(misrouted).results.records).toEqual([]);
    });

    it("render-report takes both pairs' runs at once: one committed run per pair", async () => {
      const artifacts = join(temp, 'artifacts');
      for (const pair of pairs)
        cpSync(pair.runDir, join(artifacts, `virtnet-run-${pair.runKey}-docker-1`, 'run'), { recursive: true });
      const reports = join(temp, 'reports');
      const r = await runAction(dist('render-report'), {
        inputs: { runs: artifacts, 'reports-dir': reports, environments: ENVIRONMENTS.join(',') },
        workspace: REPO,
        runnerTemp: temp,
        timeoutMs: 240_000,
      });
      expect(r.stdout, r.stderr).not.toMatch(/::error::/);
      expect(r.exitCode).toBe(0);
      const ids = r.outputs['run-ids']!.split(',').sort();
      expect(ids).toEqual(pairs.map((p) => runs.get(p.name)!.manifest.runId).sort());
      for (const pair of pairs) {
        const committed = loadRun(join(reports, 'runs', runs.get(pair.name)!.manifest.runId));
        expect(committed.manifest.runnerPair).toBe(pair.name);
      }
    }, 300_000);
  },
);
