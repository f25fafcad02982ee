// virtnet report <RUN_DIR...> [--out DIR]

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { buildReportFiles } from '../../actions/lib/report.ts';
import { loadRun } from '../../actions/lib/run-dir.ts';
import { parseCommandArgs, UsageError } from './common.ts';

export async function commandReport(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { out: { type: 'string' } }, true);
  if (positionals.length === 0) throw new UsageError('expected at least one run directory');
  if (values.out && positionals.length > 1) throw new UsageError('--out takes one run; give one run directory');
  for (const runDir of positionals) {
    const run = loadRun(runDir);
    const outDir = values.out ?? join(runDir, 'report');
    const files = await buildReportFiles(run.manifest, run.results.records);
    for (const f of files) {
      const path = join(outDir, f.path);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, f.content);
    }
    console.log(`report for run ${run.manifest.runId}: ${files.length} files in ${outDir}`);
  }
  return 0;
}
