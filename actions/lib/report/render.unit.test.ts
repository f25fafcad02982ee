import { describe, expect, it } from 'vitest';
import { compile, type TopLevelSpec } from 'vega-lite';
import { parse, View } from 'vega';
import { loadPlan } from '../plan/plan-file.ts';
import { loadClaims } from '../analyse/claims/file.ts';
import { normalizeSvgIds, renderSvg } from './render.ts';
import { chartNotes } from './charts/lines.ts';
import { runCharts } from './report.ts';
import { analyseRun } from '../analyse/run.ts';
import { syntheticRun } from '../testing/synthetic.ts';
import { diffRuns } from '../diff/diff.ts';
import { diffCharts } from '../diff/overlay-chart.ts';

const PLANS = new URL('../../../env/plans', import.meta.url).pathname;

async function plain(spec: TopLevelSpec): Promise<string> {
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  try {
    return `${normalizeSvgIds(await view.toSVG())}\n`;
  } finally {
    view.finalize();
  }
}

describe('renderSvg', () => {
  it('renders exactly what an uncached compilation renders, for every chart of two runs sharing templates', async () => {
    const { plan } = loadPlan('quick', PLANS);
    for (const [seed, envs] of [
      [1, ['native', 'docker']],
      [2, ['native', 'docker']],
    ] as const) {
      const run = syntheticRun({
        plan,
        environments: [...envs],
        replicates: 2,
        seed,
        runId: `r${seed}`,
        accelerator: 'tcg',
      });
      for (const chart of runCharts(run.manifest, analyseRun(run.manifest, run.records, loadClaims('paper', PLANS)))) {
        const svg = await renderSvg(chart.spec);
        // The chart's notes are the SVG's <desc>, added after drawing; the drawing is the plain one.
        const notes = chartNotes(chart.spec);
        if (notes.length > 0) expect(svg).toMatch(/^<svg\b[^>]*><desc>[^<]+<\/desc>/);
        expect(svg.replace(/<desc>[^<]*<\/desc>/, ''), `${seed} ${chart.id}`).toBe(await plain(chart.spec));
      }
    }
  });

  it("renders diff overlays of different run pairs from one template each, with each pair's names in the legend", async () => {
    const { plan } = loadPlan('quick', PLANS);
    const runs = [1, 2, 3].map((seed) =>
      syntheticRun({ plan, environments: ['native'], replicates: 2, seed, runId: `r${seed}`, accelerator: 'tcg' }),
    );
    const side = (i: number) => ({ label: `label-${i}`, manifest: runs[i]!.manifest, records: runs[i]!.records });
    for (const [i, j] of [
      [0, 1],
      [1, 2],
    ] as const) {
      for (const chart of diffCharts(diffRuns(side(i), side(j)))) {
        const svg = await renderSvg(chart.spec);
        expect(svg, `${i}-${j} ${chart.id}`).toBe(await plain(chart.spec));
        expect(svg).toContain(`A: label-${i}`);
        expect(svg).toContain(`B: label-${j}`);
        expect(svg).not.toContain(`label-${3 - i - j}`);
      }
    }
  });

  it('numbers clip ids per SVG', () => {
    expect(normalizeSvgIds('<clipPath id="clip17"/><g clip-path="url(#clip17)"/><clipPath id="clip18"/>')).toBe(
      '<clipPath id="clip1"/><g clip-path="url(#clip1)"/><clipPath id="clip2"/>',
    );
  });
});
