// virtnet run refuses bad input before it starts anything (no root, no testbed needed).

import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCommand } from '../../actions/lib/core/proc.ts';
import { ResultsAppender, writeManifest } from '../../actions/lib/measure/run-dir.ts';
import { loadPlan } from '../../actions/lib/plan/plan-file.ts';
import { syntheticRun } from '../../actions/lib/testing/synthetic.ts';
import { PLANS_DIR } from './common.ts';
import { testIndex } from '../../actions/lib/testing/testbeds.ts';
import { testbedDown, testbedStatus } from '../../env/testbed/testbed.ts';
const CLI = new URL('../virtnet.ts', import.meta.url).pathname;
// An index of its own, which no system test brings up: the refusals below assert it stays down.
const index = testIndex(40);
const work = mkdtempSync(join(tmpdir(), 'virtnet-run-'));
afterAll(async () => {
  // Only if a refusal failed to happen and a testbed came up after all.
  if ((await testbedStatus(index)).up) await testbedDown(index);
  rmSync(work, { recursive: true, force: true });
});

function virtnet(...args: string[]) {
  return runCommand([process.execPath, CLI, ...args], { timeoutMs: 180_000 });
}

describe('virtnet run refuses bad input before starting anything', () => {
  const cases: [string, string[], RegExp][] = [
    ['an unknown plan', ['--plan', 'nosuch'], /unknown plan "nosuch": expected one of paper, quick/],
    [
      'an unknown environment',
      ['--plan', 'quick', '--env', 'native,xen'],
      /--env: unknown environment "xen": expected one of native/,
    ],
    [
      'a mistyped environment',
      ['--plan', 'quick', '--env', 'dokcer'],
      /--env: unknown environment "dokcer" \(did you mean docker\?\): expected one of native/,
    ],
    ['a repeated environment', ['--plan', 'quick', '--env', 'native,native'], /--env: native is listed twice/],
    [
      'a bad replicates value',
      ['--plan', 'quick', '--replicates', 'three'],
      /--replicates: expected a whole number, got "three"/,
    ],
    [
      'an unknown option',
      ['--plan', 'quick', '--replicate', '3'],
      /unknown option --replicate \(did you mean --replicates\?\); this command takes --plan, /,
    ],
    ['a missing plan', [], /--plan is required/],
    [
      'a bad pair name',
      ['--plan', 'quick', '--pair', 'a b'],
      /--pair: expected a pair name: 1-40 letters, digits, '-' or '_', starting with a letter or digit, got "a b"/,
    ],
    ['a bad rate', ['--plan', 'quick', '--rate=-5'], /--rate: expected a rate in Mbit\/s/],
    ['a run dir that is not a run', ['--resume', '/'], /is not a virtnet run: it has no manifest\.json/],
  ];
  it.each(cases)('%s', async (_, args, message) => {
    const r = await virtnet('run', '--index', String(index), ...args);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(message);
    expect((await testbedStatus(index)).up).toBe(false);
  });

  it('refuses plan files with a negative size or an oversized UDP message, naming the field', async () => {
    const quick = JSON.parse(readFileSync(new URL('../../env/plans/quick.json', import.meta.url), 'utf8'));
    const bad = join(work, 'bad.json');
    writeFileSync(bad, JSON.stringify({ ...quick, sweeps: [{ ...quick.sweeps[1], from: -1, to: 70000 }] }));
    const r = await virtnet('run', '--plan', bad, '--out', join(work, 'never'));
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('sweeps[0].from: -1 is not a size');
    expect(r.stderr).toContain('sweeps[0].to: 70000 is above 65507');
    expect(existsSync(join(work, 'never'))).toBe(false);
  });

  it('does not touch an existing run when asked to create it again', async () => {
    // A run of its own (synthetic records), so this test needs neither root nor the test above.
    const out = join(work, 'existing');
    const run = syntheticRun({
      plan: loadPlan('quick', PLANS_DIR).plan,
      environments: ['native'],
      replicates: 1,
      seed: 1,
    });
    mkdirSync(out, { recursive: true });
    writeManifest(out, run.manifest);
    const appender = new ResultsAppender(out);
    for (const record of run.records) appender.append(record);
    appender.close();
    const before = readFileSync(join(out, 'results.jsonl'), 'utf8');
    expect(before.split('\n').filter(Boolean)).toHaveLength(8);
    const r = await virtnet('run', '--plan', 'quick', '--out', out, '--index', String(index));
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/already holds a run; continue it with --resume/);
    expect(readFileSync(join(out, 'results.jsonl'), 'utf8')).toBe(before);
    // Refused before anything started.
    expect((await testbedStatus(index)).up).toBe(false);
  });
});
