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
  const children = (dir: string) => readdirSync(dir).sort().map((n) => join(dir, n)).filter((p) => statSync(p).isDirectory());
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
    if (a[0] > b[0] || (a[0] === b[0] && (a[1] > b[1] || (a[1] === b[1] && a[2] > b[2])))) best.set(run.manifest.runId, run);
  }
  return [...best.values()].sort((x, y) => (x.manifest.runId < y.manifest.runId ? -1 : 1));
}
