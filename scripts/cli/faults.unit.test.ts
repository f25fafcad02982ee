// virtnet run refuses more bad input (plans, run directories, FIFOs) before it starts anything.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCommand } from '../../actions/lib/core/proc.ts';
import { testIndex } from '../../actions/lib/testing/testbeds.ts';
import { testbedDown, testbedStatus } from '../../env/testbed/testbed.ts';
const CLI = new URL('../virtnet.ts', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'virtnet-cli-faults-'));
// Our own lock and daemon registry: these tests never see (or disturb) runs outside them.
const stateDir = join(work, 'state');
const env = { ...process.env, VIRTNET_STATE_DIR: stateDir };
// An index of its own, which no system test brings up: the refusals below assert it stays down.
const index = testIndex(41);
afterAll(async () => {
  // Only if a refusal failed to happen and a testbed came up after all.
  if ((await testbedStatus(index)).up) await testbedDown(index);
  rmSync(work, { recursive: true, force: true });
});

function virtnet(...args: string[]) {
  return runCommand([process.execPath, CLI, ...args], { timeoutMs: 180_000, env });
}

/** A minimal valid run directory, written by hand: what a finished one-record run looks like. */
let fixture: string | null = null;
function fixtureRun(): string {
  if (fixture) return fixture;
  const dir = join(work, 'fixture-run');
  const quick = JSON.parse(readFileSync(new URL('../../env/plans/quick.json', import.meta.url), 'utf8'));
  delete quick.$comment;
  const manifest = {
    formatVersion: 1,
    kind: 'virtnet-run',
    runId: 'fixture',
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    status: 'incomplete',
    git: { commit: null, dirty: null, branch: null, subject: null },
    planSource: 'quick',
    plan: quick,
    environments: ['native'],
    hosts: { client: null, server: null },
    link: null,
    environmentDescriptions: {},
    sessions: [],
    environmentErrors: {},
  };
  const record = (pointId: string, value: number) =>
    JSON.stringify({
      formatVersion: 1,
      environment: 'native',
      pointId,
      test: 'UDP_STREAM',
      series: 'from-50',
      parameter: 'messageSize',
      value,
      replicate: 1,
      status: 'failed',
      attempts: 2,
      startedAt: '2026-01-01T00:00:00.000Z',
      finishedAt: '2026-01-01T00:00:01.000Z',
      command: ['netperf'],
      stdout: '',
      stderr: 'establish control',
      error: 'establish control',
      metrics: null,
    });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
  writeFileSync(
    join(dir, 'results.jsonl'),
    `${record('UDP_STREAM:messageSize=50', 50)}\n${record('UDP_STREAM:messageSize=550', 550)}\n`,
  );
  fixture = dir;
  return dir;
}

describe('virtnet run refuses more bad input before starting anything', () => {
  const quick = JSON.parse(readFileSync(new URL('../../env/plans/quick.json', import.meta.url), 'utf8'));
  const file = (name: string, content: string) => {
    const path = join(work, name);
    writeFileSync(path, content);
    return path;
  };
  const wmemMax = Number(readFileSync('/proc/sys/net/core/wmem_max', 'utf8'));

  const cases: [string, () => string[], RegExp][] = [
    [
      'a plan file that is not JSON',
      () => ['--plan', file('broken.json', '{"formatVersion": 1, "name": ')],
      /plan file .*broken\.json is not valid JSON: /,
    ],
    [
      'a plan file that does not exist',
      () => ['--plan', join(work, 'nosuch.json')],
      /plan file .*nosuch\.json does not exist/,
    ],
    [
      'a socket size above net.core.wmem_max',
      () => [
        '--plan',
        file(
          'huge-socket.json',
          JSON.stringify({ ...quick, sweeps: [{ ...quick.sweeps[0], from: wmemMax + 100, to: wmemMax + 100 }] }),
        ),
      ],
      new RegExp(
        `sweeps\\[0\\] asks for a send socket size of ${wmemMax + 100} B, above the kernel's net\\.core\\.wmem_max = ${wmemMax} B`,
      ),
    ],
    [
      'a step that never reaches the end',
      () => [
        '--plan',
        file(
          'backwards.json',
          JSON.stringify({ ...quick, sweeps: [{ ...quick.sweeps[1], from: 1950, to: 50, step: 100 }] }),
        ),
      ],
      /sweeps\[0\]: from 1950 is above to 50: the step 100 never reaches the end/,
    ],
    [
      'duplicate points in a plan file',
      () => [
        '--plan',
        file(
          'dup.json',
          JSON.stringify({ ...quick, sweeps: [quick.sweeps[1], { ...quick.sweeps[1], series: 'again' }] }),
        ),
      ],
      /duplicate points:\n {2}- UDP_STREAM:requestSize=50 appears in sweeps\[0\] \(series from-50\) and in sweeps\[1\] \(series again\)/,
    ],
    [
      'a wrong type in a plan file',
      () => ['--plan', file('types.json', JSON.stringify({ ...quick, testLengthSeconds: '1s', retries: -1 }))],
      /testLengthSeconds: expected a whole number, got "1s"[\s\S]*retries: -1 is out of range: expected 0 to 10/,
    ],
    [
      'a zero test length',
      () => ['--plan', 'quick', '--test-length', '0'],
      /--test-length: 0 is out of range: expected 1 to 3600/,
    ],
    [
      'a bad netperf grace',
      () => ['--plan', 'quick', '--netperf-grace', 'soon'],
      /--netperf-grace: expected a whole number, got "soon"/,
    ],
    [
      'an unknown environment on resume',
      () => ['--resume', runDir('env-resume'), '--env', 'vmware'],
      /--env: unknown environment "vmware"/,
    ],
    [
      'a manifest of a newer format',
      () => ['--resume', runDir('newer-manifest', (m) => ({ ...m, formatVersion: 99 }))],
      /manifest\.json: formatVersion: 99 is newer than this virtnet reads \(1\); upgrade virtnet/,
    ],
    [
      'results of a newer format',
      () => [
        '--resume',
        runDir('newer-results', undefined, (line, i) =>
          i === 1 ? JSON.stringify({ ...JSON.parse(line), formatVersion: 2 }) : line,
        ),
      ],
      /results\.jsonl line 2: formatVersion: 2 is newer than this virtnet reads \(1\); upgrade virtnet/,
    ],
    [
      'a results line broken in the middle of the file',
      () => ['--resume', runDir('corrupt-middle', undefined, (line, i) => (i === 0 ? line.slice(0, 50) : line))],
      /results\.jsonl line 1: not valid JSON/,
    ],
    [
      'a directory whose manifest is not a run',
      () => ['--resume', runDir('other-kind', (m) => ({ ...m, kind: 'something-else' }))],
      /kind is "something-else", not "virtnet-run": this is not a virtnet run/,
    ],
    [
      'a manifest that is not JSON',
      () => [
        '--resume',
        (() => {
          const d = runDir('bad-manifest');
          writeFileSync(join(d, 'manifest.json'), '{');
          return d;
        })(),
      ],
      /manifest\.json: not valid JSON/,
    ],
    ['a run directory that does not exist', () => ['--resume', join(work, 'nowhere')], /nowhere: no such directory/],
    // A manifest's plan is read through the plan schema: these once looped out of memory or ran for years.
    [
      'a manifest whose plan never reaches the end',
      () => [
        '--resume',
        runDir('step-zero', (m) => ({
          ...m,
          plan: { ...(m.plan as object), sweeps: [{ ...quick.sweeps[1], step: 0 }] },
        })),
      ],
      /manifest\.json: plan\.sweeps\[0\]\.step: 0 never reaches the end: expected a step above 0/,
    ],
    [
      'a manifest whose plan runs for ever',
      () => [
        '--resume',
        runDir('for-ever', (m) => ({
          ...m,
          plan: { ...(m.plan as object), replicates: 1e8, testLengthSeconds: 999999 },
        })),
      ],
      /manifest\.json:\n {2}- plan\.testLengthSeconds: 999999 is out of range: expected 1 to 3600\n {2}- plan\.replicates: 100000000 is out of range: expected 1 to 1000/,
    ],
    [
      'a manifest with an empty plan',
      () => ['--resume', runDir('empty-plan', (m) => ({ ...m, plan: {} }))],
      /manifest\.json:\n {2}- plan\.formatVersion: expected a whole number, got nothing/,
    ],
    [
      'a manifest with half its hosts',
      () => ['--resume', runDir('half-hosts', (m) => ({ ...m, hosts: { client: null } }))],
      /manifest\.json: hosts\.server: expected an object, got nothing/,
    ],
    [
      'results with a point value of 1e309',
      () => [
        '--resume',
        runDir('huge-value', undefined, (line, i) => (i === 0 ? line.replace('"value":50', '"value":1e309') : line)),
      ],
      /results\.jsonl line 1: value: expected a whole number, got Infinity/,
    ],
    [
      'results.jsonl as a FIFO',
      () => [
        '--resume',
        (() => {
          const d = runDir('fifo-results');
          rmSync(join(d, 'results.jsonl'));
          execFileSync('mkfifo', [join(d, 'results.jsonl')]);
          return d;
        })(),
      ],
      /results\.jsonl is a FIFO \(named pipe\), not a regular file: refused/,
    ],
  ];

  /** A copy of a small finished run, optionally with its manifest or result lines altered. */
  function runDir(
    name: string,
    manifest?: (m: Record<string, unknown>) => unknown,
    line?: (l: string, i: number) => string,
  ): string {
    const dir = join(work, name);
    rmSync(dir, { recursive: true, force: true });
    const source = fixtureRun();
    execFileSync('cp', ['-r', source, dir]);
    if (manifest)
      writeFileSync(
        join(dir, 'manifest.json'),
        JSON.stringify(manifest(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')))),
      );
    if (line) {
      const lines = readFileSync(join(dir, 'results.jsonl'), 'utf8').split('\n').filter(Boolean);
      writeFileSync(join(dir, 'results.jsonl'), `${lines.map(line).join('\n')}\n`);
    }
    return dir;
  }

  it.each(cases)('%s', async (_, args, message) => {
    const r = await virtnet('run', '--index', String(index), '--no-report', ...args());
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/TypeError|\n {4}at /);
    expect((await testbedStatus(index)).up).toBe(false);
    expect(existsSync(join(stateDir, `testbed-${index}.lock`))).toBe(false);
  });

  it('report refuses results of a newer format too, naming the line', async () => {
    const dir = runDir('report-newer', undefined, (l, i) =>
      i === 0 ? JSON.stringify({ ...JSON.parse(l), formatVersion: 3 }) : l,
    );
    const r = await virtnet('report', dir, '--out', join(work, 'never-report'));
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/results\.jsonl line 1: formatVersion: 3 is newer/);
  });

  it('report refuses a manifest with a wrong type where tables once crashed, naming the field', async () => {
    const dir = runDir('report-startup', (m) => ({
      ...m,
      environmentDescriptions: {
        native: { name: 'native', summary: 's', details: {}, accelerator: 'none', startupSeconds: '3' },
      },
    }));
    const r = await virtnet('report', dir, '--out', join(work, 'never-report-2'));
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toBe(
      `virtnet report: ${join(dir, 'manifest.json')}: environmentDescriptions.native.startupSeconds: expected a number, got "3"\n`,
    );
  });
});
