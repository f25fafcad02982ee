#!/usr/bin/env node
// The resume figure: a paper-plan run killed with SIGKILL at random moments, resumed after each
// kill (without `virtnet cleanup` in between: the resume must cope with what the kill left), then
// resumed to the end. Prints the planned set against what the results file holds.
//
//   node scripts/bench-resume.ts [--kills 5] [--index 60] [--test-length 1] [--replicates 3]
//                                [--min-delay 5] [--max-delay 30] [--seed 7] [--env native] [--out DIR]

import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { measuredValues, seededRandom, taskKey } from '../actions/lib/plan/schedule.ts';
import { plannedKeys } from '../actions/lib/measure/session.ts';
import { latestRecords } from '../actions/lib/measure/records.ts';
import { loadRun } from '../actions/lib/measure/run-dir.ts';
import { runCommand } from '../actions/lib/core/proc.ts';

const { values } = parseArgs({
  options: {
    kills: { type: 'string', default: '5' },
    index: { type: 'string', default: process.env.VIRTNET_TESTBED_INDEX ?? '60' },
    'test-length': { type: 'string', default: '1' },
    replicates: { type: 'string', default: '3' },
    'min-delay': { type: 'string', default: '5' },
    'max-delay': { type: 'string', default: '30' },
    seed: { type: 'string', default: '7' },
    env: { type: 'string', default: 'native' },
    out: { type: 'string' },
  },
});
const kills = Number(values.kills);
const minDelay = Number(values['min-delay']);
const maxDelay = Number(values['max-delay']);
const random = seededRandom(Number(values.seed));
const cli = new URL('./virtnet.ts', import.meta.url).pathname;
const out = values.out ?? join(mkdtempSync(join(tmpdir(), 'virtnet-bench-resume-')), 'run');

/** Runs one session; SIGKILLs it after `killAfterSeconds` if given (the process layer's timeout). Returns how it ended. */
async function session(
  args: string[],
  killAfterSeconds: number | null,
): Promise<{ killed: boolean; code: number | null; lastLine: string; seconds: number }> {
  // Without a kill the session is still bounded: a day is far beyond any paper run here.
  const r = await runCommand([process.execPath, cli, ...args], { timeoutMs: (killAfterSeconds ?? 24 * 3600) * 1000 });
  const killed = r.timedOut;
  const lastLine =
    r.stdout
      .split('\n')
      .filter((l) => l.startsWith('['))
      .at(-1) ?? '';
  if (!killed && r.exitCode !== 0)
    throw new Error(`virtnet ${args.join(' ')} exited with ${r.exitCode}: ${r.stderr.trim()}`);
  return { killed, code: r.exitCode, lastLine, seconds: r.durationMs / 1000 };
}

const common = ['--index', values.index!, '--no-report'];
// The bare link, as this bench was first measured: --plan paper alone now brings the calibrated delay.
const first = [
  'run',
  '--plan',
  'paper',
  '--delay',
  'off',
  '--env',
  values.env!,
  '--out',
  out,
  '--test-length',
  values['test-length']!,
  '--replicates',
  values.replicates!,
  ...common,
];
console.log(
  `bench-resume: paper plan, --env ${values.env} --test-length ${values['test-length']} --replicates ${values.replicates}, ${kills} SIGKILLs after ${minDelay}-${maxDelay} s (seed ${values.seed}), testbed ${values.index}`,
);
console.log(`  run directory: ${out}`);
const t0 = performance.now();
let landed = 0;
for (let k = 0; k < kills; k++) {
  const delay = Math.round((minDelay + random() * (maxDelay - minDelay)) * 10) / 10;
  const s = await session(k === 0 ? first : ['run', '--resume', out, ...common], delay);
  if (s.killed) landed++;
  const lines = existsSync(out) ? loadRun(out).results.records.length : 0;
  console.log(
    `  session ${k + 1}: ${s.killed ? `SIGKILL after ${delay} s` : `finished before its kill at ${delay} s`}; results.jsonl holds ${lines} records; last progress line: ${s.lastLine || '(none)'}`,
  );
}
const final = await session(['run', '--resume', out, ...common], null);
console.log(`  session ${kills + 1}: resumed to the end in ${final.seconds.toFixed(0)} s (exit ${final.code})`);

const run = loadRun(out);
const plan = run.manifest.plan;
const planned = new Set(
  plannedKeys(plan, run.manifest.environments, measuredValues(latestRecords(run.results.records))),
);
const okCount = new Map<string, number>();
for (const r of run.results.records) if (r.status === 'ok') okCount.set(taskKey(r), (okCount.get(taskKey(r)) ?? 0) + 1);
const duplicates = [...okCount.values()].filter((n) => n > 1).length;
const gaps = [...planned].filter((k) => !okCount.has(k)).length;
const extra = [...okCount.keys()].filter((k) => !planned.has(k)).length;
const failed = run.results.records.filter((r) => r.status === 'failed').length;
const partials = readdirSync(out).filter((f) => f.startsWith('results.jsonl.partial-line-')).length;

console.log('\nfigures:');
console.log(`  planned measurements:            ${planned.size}`);
console.log(`  present (distinct ok):           ${okCount.size}`);
console.log(`  records in results.jsonl:        ${run.results.records.length} (${failed} failed records)`);
console.log(`  duplicates among ok records:     ${duplicates}`);
console.log(`  gaps (planned, no ok record):    ${gaps}`);
console.log(`  ok records not in the plan:      ${extra}`);
console.log(`  truncated lines set aside:       ${partials}`);
console.log(`  kills that hit a live run:       ${landed} of ${kills}`);
console.log(`  sessions in the manifest:        ${run.manifest.sessions.length}`);
for (const [i, s] of run.manifest.sessions.entries())
  console.log(`    ${i + 1}. ${s.startedAt} measured ${s.measuredInSession}: ${s.endReason}`);
console.log(`  final status:                    ${run.manifest.status}`);
console.log(`  wall time:                       ${((performance.now() - t0) / 1000).toFixed(0)} s`);
process.exitCode = run.manifest.status === 'complete' && gaps === 0 && duplicates === 0 && extra === 0 ? 0 : 1;
