// The files of one diff on their own, for `virtnet diff --out` and the diff-results action's page:
// diff.json, diff.md, diff.txt, each overlay chart as its Vega-Lite spec beside its SVG, and an
// index.html that needs nothing else (the SVGs and the site's stylesheet inlined), so it can be
// opened from an artifact or a file system.

import { diffCharts } from '../diff/overlay-chart.ts';
import type { RunDiff } from '../diff/diff.ts';
import { formatDiffJson, formatDiffMarkdown, formatDiffText } from '../diff/format.ts';
import { diffPage } from '../diff/page.ts';
import { html, trustedHtml } from '../core/html.ts';
import { renderSvg } from '../report/render.ts';
import { siteAsset } from './assets.ts';

export interface DiffFile {
  path: string;
  content: string;
}

/** diff.json, diff.md, diff.txt, each chart's .vl.json and .svg, and index.html with the SVGs inlined. */
export async function buildDiffFiles(d: RunDiff): Promise<DiffFile[]> {
  const svgs = new Map<string, string>();
  for (const chart of diffCharts(d)) svgs.set(chart.id, await renderSvg(chart.spec));
  // Trusted: vega drew these SVGs from the diff's own specs, writing every text as escaped SVG text.
  const page = diffPage(d, {
    chartHtml: (c) => html`<figure class="chart" data-chart="${c.id}">${trustedHtml(svgs.get(c.id) ?? '')}</figure>`,
  });
  const files: DiffFile[] = [
    { path: 'diff.json', content: formatDiffJson(d) },
    { path: 'diff.md', content: formatDiffMarkdown(d) },
    { path: 'diff.txt', content: formatDiffText(d) },
  ];
  for (const chart of page.charts) {
    files.push({ path: `charts/${chart.id}.vl.json`, content: `${JSON.stringify(chart.spec, null, 2)}\n` });
    files.push({ path: `charts/${chart.id}.svg`, content: svgs.get(chart.id)! });
  }
  // Trusted: the site's stylesheet, a file of this repository (a `</style>` in it would be a bug here, so refuse one).
  const css = siteAsset('site.css').toString('utf8');
  if (/<\/style/i.test(css)) throw new Error('site.css contains "</style": it cannot be inlined');
  const doc = html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${page.title}</title><style>${trustedHtml(css)}</style></head><body>
<main>
<h1>${page.title}</h1>
${page.bodyHtml}
</main>
</body></html>
`;
  files.push({ path: 'index.html', content: doc.toString() });
  return files;
}
