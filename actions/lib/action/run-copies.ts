// Finding runs in a folder of downloaded artifacts. Each client job of a workflow run uploads the
// run directory as it stands after its environment, so the artifacts hold several copies of one
// run, each a superset of the one before; the report needs only the most complete copy of each.

import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isRunDir, type LoadedRun, loadRun } from '../measure/run-dir.ts';

/** The path itself if it is a run, else the runs among its children and grandchildren, sorted. */
export function findRunCopies(path: string): LoadedRun[] {
  if (isRunDir(path)) return [loadRun(path)];
  const dirs: string[] = [];
  const children = (dir: string) =>
    readdirSync(dir)
      .sort()
      .map((n) => join(dir, n))
      .filter((p) => statSync(p).isDirectory());
  for (const child of children(path)) {
    if (isRunDir(child)) dirs.push(child);
    else for (const grandchild of children(child)) if (isRunDir(grandchild)) dirs.push(grandchild);
  }
  return dirs.map(loadRun);
}

/** How complete a copy is: more records first, then more sessions, then the later update. */
function completeness(run: LoadedRun): [number, number, string] {
  return [run.results.records.length, run.manifest.sessions.length, run.manifest.updatedAt];
}

export function mostCompleteCopies(runs: readonly LoadedRun[]): LoadedRun[] {
  const best = new Map<string, LoadedRun>();
  for (const run of runs) {
    const current = best.get(run.manifest.runId);
    if (!current) {
      best.set(run.manifest.runId, run);
      continue;
    }
    const [a, b] = [completeness(run), completeness(current)];
    if (a[0] > b[0] || (a[0] === b[0] && (a[1] > b[1] || (a[1] === b[1] && a[2] > b[2]))))
      best.set(run.manifest.runId, run);
  }
  return [...best.values()].sort((x, y) => (x.manifest.runId < y.manifest.runId ? -1 : 1));
}

/**
 * The expected environments a run has no record of: their leg's data never reached this job (its
 * client job failed before measuring, or its artifact upload failed and no later leg's copy, which
 * would hold it, arrived either).
 */
export function missingEnvironments(run: LoadedRun, expected: readonly string[]): string[] {
  const measured = new Set(run.results.records.map((r) => r.environment));
  return expected.filter((e) => !measured.has(e));
}

/** What to say about legs without data, naming where the client runner keeps the run directory. */
export function missingLegsMessage(runId: string, missing: readonly string[]): string {
  return `run ${runId} has no data from ${missing.length === 1 ? 'the leg' : 'the legs'} ${missing.join(', ')}: ${missing.length === 1 ? 'its' : 'their'} client job failed before measuring or its artifact upload failed (the client runner keeps the run directory under /var/lib/virtnet/runs/<run key>; see that job's summary)`;
}
