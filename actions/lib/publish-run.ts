// Writing a run for committing: its data files as measured and its report files (from the report
// library) under OUT/<run id>/. Deterministic: writing the same run again changes no file.

import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { MeasurementRecord } from './records.ts';
import { buildReportFiles } from './report.ts';
import { MANIFEST_FILE, RESULTS_FILE, type LoadedRun } from './run-dir.ts';

export interface WrittenRun {
  runId: string;
  status: string;
  plan: string;
  environments: string[];
  dir: string;
  files: number;
  records: readonly MeasurementRecord[];
}

export async function writeRunReport(run: LoadedRun, outDir: string): Promise<WrittenRun> {
  const { manifest } = run;
  if (!/^[A-Za-z0-9._-]+$/.test(manifest.runId)) throw new Error(`${run.dir}: run id ${JSON.stringify(manifest.runId)} is not safe as a folder name`);
  const dir = join(outDir, manifest.runId);
  mkdirSync(dir, { recursive: true });
  copyFileSync(join(run.dir, MANIFEST_FILE), join(dir, MANIFEST_FILE));
  if (existsSync(join(run.dir, RESULTS_FILE))) copyFileSync(join(run.dir, RESULTS_FILE), join(dir, RESULTS_FILE));
  const files = await buildReportFiles(manifest, run.results.records);
  for (const f of files) {
    const path = join(dir, 'report', f.path);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, f.content);
  }
  return { runId: manifest.runId, status: manifest.status, plan: manifest.plan.name, environments: manifest.environments, dir, files: files.length + 2, records: run.results.records };
}
