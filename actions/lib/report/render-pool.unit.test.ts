import { describe, expect, it } from 'vitest';
import { loadPlan } from '../plan/plan-file.ts';
import { loadClaims } from '../analyse/claims/file.ts';
import { createRenderPool } from './render-pool.ts';
import { renderSvg } from './render.ts';
import { runCharts } from './report.ts';
import { analyseRun } from '../analyse/run.ts';
import { syntheticRun } from '../testing/synthetic.ts';

describe('createRenderPool', () => {
  it('renders on worker threads exactly what renderSvg renders in this thread', async () => {
    const { plan } = loadPlan('quick', new URL('../../../env/plans', import.meta.url).pathname);
    const run = syntheticRun({ plan, environments: ['native', 'osv'], replicates: 2, seed: 3 });
    const charts = runCharts(
      run.manifest,
      analyseRun(
        run.manifest,
        run.records,
        loadClaims('paper', new URL('../../../env/plans', import.meta.url).pathname),
      ),
    );
    const pool = createRenderPool(2);
    try {
      const fromPool = await Promise.all(charts.map((c) => pool.render(c.spec)));
      for (const [i, c] of charts.entries()) expect(fromPool[i], c.id).toBe(await renderSvg(c.spec));
    } finally {
      await pool.close();
    }
  });
});
