// The replicate spread's upper confidence bound, against chi-square table values and on the
// committed reproduction (whose bounds an independent audit recomputed).

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadClaims } from './file.ts';
import { judgeClaims } from './judge.ts';
import { replicateSpreadUpperBound } from './kinds/replicates-agree.ts';
import { loadRun } from '../../measure/run-dir.ts';

const REPO = new URL('../../../../', import.meta.url).pathname;

describe("the replicate standard deviation's 95% upper bound", () => {
  it('divides by the lower-tail chi-square quantile (tables: 82.354 at 105 df, 3.940 at 10 df)', () => {
    // sigma < s sqrt(df / q(0.05, df)): above the estimate, never below it.
    expect(replicateSpreadUpperBound(0.00794 ** 2, 105, 0.05)).toBeCloseTo(0.00794 * Math.sqrt(105 / 82.354), 6);
    expect(replicateSpreadUpperBound(0.01 ** 2, 10, 0.05)).toBeCloseTo(0.01 * Math.sqrt(10 / 3.9403), 6);
    expect(replicateSpreadUpperBound(0.00794 ** 2, 105, 0.05)).toBeGreaterThan(0.00794);
  });

  it('on the committed reproduction: native 0.90%, docker 0.77%, kvm 1.91%, osv 1.34%', () => {
    const run = loadRun(join(REPO, 'reports', 'runs', '20261204T171317-f726c9'));
    const claims = loadClaims('paper', join(REPO, 'env', 'plans'));
    const r = judgeClaims({ manifest: run.manifest, records: run.results.records }, claims).find(
      (c) => c.id === 'tcp-replicates-identical',
    )!;
    const bounds = Object.fromEntries(
      [
        ...r.evidence.matchAll(
          /(\w+): replicate standard deviation [\d.]+% of the mean pooled over \d+ points \((\d+) df; 95% upper bound ([\d.]+)%\)/g,
        ),
      ].map((m) => [m[1], m[3]]),
    );
    expect(bounds).toEqual({ native: '0.90', docker: '0.77', kvm: '1.91', osv: '1.34' });
    expect(r.evidence).toMatch(
      /native: replicate standard deviation 0\.79% of the mean pooled over \d+ points \(105 df;/,
    );
  });
});
