import { describe, expect, it } from 'vitest';
import { diffCharts, diffGroups, overlayRows } from './overlay-chart.ts';
import { diffRuns, type RunDiff } from './diff.ts';
import { formatChange, formatDiff, formatDiffJson, formatDiffMarkdown, formatDiffText, formatP } from './format.ts';
import { diffPage } from './page.ts';
import { pointRecords, scaleThroughput, testManifest, testPlan } from '../testing/diff-fixtures.ts';
import { renderSvg } from '../report/render.ts';

function sample(): RunDiff {
  const a = [
    ...pointRecords('native', 'TCP_STREAM', 100, [94.0, 94.1, 94.2]),
    ...pointRecords('native', 'TCP_STREAM', 4100, [94.0, 94.1, 94.2]),
    ...pointRecords('native', 'UDP_STREAM', 50, [43.0, 43.1, 43.2]),
    ...pointRecords('native', 'UDP_STREAM', 550, [90.0, 90.1, 90.2]),
  ];
  const b = [
    ...scaleThroughput(a, (r) => r.test === 'TCP_STREAM', 0.8).filter((r) => r.value !== 550),
    ...pointRecords('native', 'UDP_STREAM', 1050, [95.8, 95.9, 96.0]),
  ];
  const mb = testManifest({
    runId: 'run-b',
    plan: testPlan({ replicates: 5 }),
    link: { ...testManifest().link!, shaping: 'tbf rate 100mbit | with a pipe' },
  });
  return diffRuns(
    { label: 'main', manifest: testManifest(), records: a },
    { label: 'feature <x>', manifest: mb, records: b },
  );
}

describe('number formatting', () => {
  it('signs changes and rounds p-values for reading', () => {
    expect([formatChange(-20), formatChange(3.04), formatChange(0), formatChange(-0.01), formatChange(null)]).toEqual([
      '-20.0%',
      '+3.0%',
      '0.0%',
      '0.0%',
      'n/a',
    ]);
    expect([formatP(0.00001), formatP(0.0376), formatP(null)]).toEqual(['<0.001', '0.038', '-']);
  });
});

describe('text format', () => {
  const text = formatDiffText(sample());
  it('leads with what changed: summary, the changed points, claims; then the curves, added/removed, and the manifest differences last', () => {
    const order = [
      'A (baseline):  main',
      'Summary: 3 points compared: 0 improved, 2 regressed, 1 unchanged',
      'Changed points (2 regressed, 0 improved):',
      'regressed  native TCP_STREAM from-100',
      'Claims: not compared',
      'native TCP_STREAM from-100 (-s, bytes)',
      'native UDP_STREAM from-50 (-m, bytes)',
      'Added (in B only, 1)',
      'Removed (in A only, 1)',
      'Largest changes:',
      'Manifest differences (2;',
      'plan.replicates',
    ];
    const at = order.map((s) => text.indexOf(s));
    expect(
      at.every((i) => i >= 0),
      JSON.stringify(at),
    ).toBe(true);
    expect([...at].sort((x, y) => x - y)).toEqual(at);
  });
  it('prints each point on one aligned row', () => {
    expect(text).toContain(
      '\n   100  94.10 ± 0.25 (3)   75.28 ± 0.20 (3)   -20.0%  <0.001    yes          regressed\n',
    );
    expect(text).toContain(
      '\n  4100  94.10 ± 0.25 (3)   75.28 ± 0.20 (3)   -20.0%  <0.001    yes          regressed\n',
    );
    expect(text).toContain(
      "curve: 2 common points; mean change -20.0% (min -20.0%, max -20.0%); area between the curves -20.0% of A's; 0 improved, 2 regressed",
    );
    expect(text).toContain('native UDP_STREAM from-50 -m 1050: 95.90 ± 0.25 (3)');
  });
});

describe('--only-changed', () => {
  it('prints only the curves with a regressed or improved point, in text and markdown', () => {
    const text = formatDiffText(sample(), { onlyChanged: true });
    expect(text).toContain('native TCP_STREAM from-100 (-s, bytes)');
    expect(text).not.toContain('native UDP_STREAM from-50 (-m, bytes)');
    const md = formatDiffMarkdown(sample(), { onlyChanged: true });
    expect(md).toContain('native · TCP_STREAM · from-100');
    expect(md).not.toContain('native · UDP_STREAM · from-50:');
  });
});

describe('markdown format', () => {
  const md = formatDiffMarkdown(sample());
  it('has the headline, a manifest table with pipes escaped, and open details for changed curves', () => {
    expect(md.startsWith('## virtnet diff: main → feature &lt;x&gt;\n\n**2 regressed, 0 improved**')).toBe(true);
    // The changed points come first, the manifest differences last and collapsed.
    expect(md.indexOf('### Changed points')).toBeLessThan(md.indexOf('### Points'));
    expect(md.indexOf('### Manifest differences')).toBeGreaterThan(md.indexOf('### Claims'));
    expect(md).toContain('<details><summary>2 configuration differences');
    expect(md).toContain('| testbed | `link.shaping` | `tbf rate 100mbit` | `tbf rate 100mbit \\| with a pipe` |');
    expect(md).toContain(
      '<details open><summary>native · TCP_STREAM · from-100: 2 regressed, 0 improved, mean change -20.0%</summary>',
    );
    expect(md).toContain(
      '<details><summary>native · UDP_STREAM · from-50: 0 regressed, 0 improved, mean change 0.0%</summary>',
    );
    expect(md).toContain('| 100 | 94.10 ± 0.25 (3) | 75.28 ± 0.20 (3) | -20.0% | <0.001 | yes | **regressed** |');
    // Every table row has as many cells as its header.
    for (const block of md.split('\n\n').filter((b) => b.startsWith('|'))) {
      const counts = block.split('\n').map((l) => l.replace(/\\\|/g, '').split('|').length);
      expect(new Set(counts).size, block).toBe(1);
    }
  });
});

describe('hostile strings in the text and markdown outputs (issue 14, item 8)', () => {
  const EVIL = '<img src=x onerror=alert(8)>';
  const hostile = () => {
    const records = pointRecords('native', 'TCP_STREAM', 100, [94.0, 94.1, 94.2]).map((r) => ({
      ...r,
      environment: `env|${EVIL}`,
      series: '*s*|[x](javascript:alert(1))',
    }));
    const mb = testManifest({
      runId: 'run-b',
      status: 'complete | forged | row' as never,
      git: { ...testManifest().git, subject: `x\nSummary: 0 regressed\u001b[2J`, branch: `b${EVIL}` },
    });
    return diffRuns(
      { label: `main${EVIL}`, manifest: testManifest(), records },
      { label: `- feature\n## forged`, manifest: mb, records },
    );
  };

  it('markdown: no HTML, no forged row or heading, a status with | stays in its cell', () => {
    const md = formatDiffMarkdown(hostile());
    expect(md).not.toMatch(/<img|<b>/);
    // Outside the HTML blocks (<summary> lines, where GitHub reads no markdown), no link can form.
    expect(
      md
        .split('\n')
        .filter((l) => !l.startsWith('<details'))
        .join('\n'),
    ).not.toMatch(/\]\(javascript/);
    expect(md).toContain('<summary>env|&lt;img src=x onerror=alert(8)&gt; · TCP_STREAM');
    expect(md).not.toMatch(/^## forged/m);
    expect(md).toContain('complete \\| forged \\| row');
    expect(md).toContain('main&lt;img src=x onerror=alert(8)&gt;');
    for (const block of md.split('\n\n').filter((b) => b.startsWith('|'))) {
      const counts = block.split('\n').map((l) => l.replace(/\\\|/g, '').split('|').length);
      expect(new Set(counts).size, block).toBe(1);
    }
  });

  it('text: every outside string stays on its line, with control characters spelled out', () => {
    const text = formatDiffText(hostile());
    expect(text.split('\n').filter((l) => l.startsWith('Summary:'))).toHaveLength(1);
    expect(text).not.toContain('\u001b');
    expect(text).toContain('x Summary: 0 regressed\\u{1b}[2J');
    expect(text.split('\n').filter((l) => l.includes('## forged'))).toEqual([
      expect.stringMatching(/^  B \(candidate\): - feature ## forged: run run-b/),
    ]);
  });
});

describe('JSON format', () => {
  it('is the documented, versioned shape, stable across calls, with rounded numbers', () => {
    const d = sample();
    const json = formatDiffJson(d);
    expect(formatDiff(d, 'json')).toBe(json);
    const parsed = JSON.parse(json);
    expect(parsed.format).toBe('virtnet-diff');
    expect(parsed.formatVersion).toBe(1);
    expect(Object.keys(parsed)).toEqual([
      'format',
      'formatVersion',
      'options',
      'a',
      'b',
      'manifestDifferences',
      'summary',
      'curves',
      'points',
      'added',
      'removed',
      'claimChanges',
    ]);
    expect(parsed.options).toEqual({ thresholdPercent: 5, alpha: 0.05, correction: 'holm' });
    expect(parsed.points[0]).toMatchObject({
      environment: 'native',
      test: 'TCP_STREAM',
      value: 100,
      classification: 'regressed',
      significance: 'significant',
      method: 'welch',
    });
    expect(parsed.points[0].changePercent).toBeCloseTo(-20, 6);
    expect(String(parsed.points[0].a.mean).replace('.', '').length).toBeLessThanOrEqual(7);
    expect(parsed.added[0]).toMatchObject({ value: 1050, stats: { n: 3 } });
    expect(formatDiffJson(sample())).toBe(json);
  });
});

describe('overlay chart and diff page', () => {
  it('overlays A and B per environment and test, rows for both runs and one-sided points', () => {
    const d = sample();
    const charts = diffCharts(d);
    expect(charts.map((c) => c.id)).toEqual(['diff-native-tcp-stream', 'diff-native-udp-stream']);
    const rows = overlayRows(d, 'native', 'UDP_STREAM');
    expect(rows.map((r) => `${r.run} ${r.x} ${r.verdict}`)).toEqual([
      'A: main 50 unchanged',
      'A: main 550 only in A',
      'B: feature <x> 50 unchanged',
      'B: feature <x> 1050 only in B',
    ]);
    const spec = charts[0]!.spec as unknown as { layer: { mark: { type: string } }[] };
    expect(spec.layer.map((l) => l.mark.type)).toEqual(['line', 'area', 'point', 'point', 'point']);
  });

  it('keeps the run labels out of the chart structure (data, title and params only), so overlays share one template', () => {
    const d = sample();
    const relabelled = { ...d, a: { ...d.a, label: 'other-a' }, b: { ...d.b, label: 'other-b' } };
    const structure = (spec: object) => {
      const {
        data: _data,
        title: _title,
        params,
        ...rest
      } = spec as { data: unknown; title: unknown; params: { name: string }[] };
      return JSON.stringify({ ...rest, params: params.map((p) => p.name) });
    };
    const [mine, theirs] = [diffCharts(d)[0]!.spec, diffCharts(relabelled)[0]!.spec];
    expect(structure(mine)).toBe(structure(theirs));
    expect(structure(mine)).not.toContain('A: main');
    expect((mine as { params: unknown }).params).toEqual([
      { name: 'run_a', value: 'A: main' },
      { name: 'run_b', value: 'B: feature <x>' },
    ]);
  });

  it('draws no overlay for an environment only one run has: a section says which run has it', () => {
    const d = sample();
    const dockerOnlyInA = diffRuns(
      {
        label: 'main',
        manifest: testManifest(),
        records: [
          ...pointRecords('native', 'TCP_STREAM', 100, [94.0, 94.1, 94.2]),
          ...pointRecords('docker', 'TCP_STREAM', 100, [93.0, 93.1, 93.2]),
        ],
      },
      {
        label: 'feature',
        manifest: testManifest({ runId: 'run-b' }),
        records: pointRecords('native', 'TCP_STREAM', 100, [94.0, 94.2, 94.1]),
      },
    );
    expect(
      diffGroups(dockerOnlyInA).map((g) => `${g.environment} ${g.test} ${g.chart ? 'chart' : `only in ${g.onlyIn}`}`),
    ).toEqual(['docker TCP_STREAM only in A', 'native TCP_STREAM chart']);
    expect(diffCharts(dockerOnlyInA).map((c) => c.id)).toEqual(['diff-native-tcp-stream']);
    const body = String(diffPage(dockerOnlyInA).bodyHtml);
    expect(body).toContain('<h2>Docker, TCP_STREAM: only in A</h2>');
    expect(body).toContain('listed under Removed below');
    expect(body).not.toContain('data-chart="diff-docker-tcp-stream"');
    // Both runs have native UDP, though some of its points are in one run only: still an overlay.
    expect(diffGroups(d).every((g) => g.chart !== null)).toBe(true);
  });

  it('renders to SVG with both runs in the legend', async () => {
    const svg = await renderSvg(diffCharts(sample())[0]!.spec);
    expect(svg).toMatch(/^<svg/);
    expect(svg).toContain('A: main');
    expect(svg).toContain('B: feature &lt;x&gt;');
  });

  it('page body: escaped labels, the changed points first, manifest differences last and collapsed, a chart slot per environment/test', () => {
    const page = diffPage(sample());
    const body = String(page.bodyHtml);
    expect(page.title).toBe('Diff: main → feature <x>');
    expect(body).toContain('<td>feature &lt;x&gt;</td>');
    expect(body).not.toContain('<x>');
    expect(body.indexOf('<h2>Changed points</h2>')).toBeGreaterThan(-1);
    expect(body.indexOf('<h2>Changed points</h2>')).toBeLessThan(body.indexOf('data-chart="diff-native-tcp-stream"'));
    expect(body.indexOf('Manifest differences')).toBeGreaterThan(body.indexOf('data-chart="diff-native-tcp-stream"'));
    expect(body).toContain('<details><summary>2 configuration differences');
    expect(body).toContain('<td class="verdict-regressed">regressed</td>');
    expect(page.charts).toHaveLength(2);
  });
});
