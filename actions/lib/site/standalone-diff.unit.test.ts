import { describe, expect, it } from 'vitest';
import { diffRuns } from '../diff/diff.ts';
import { pointRecords, scaleThroughput, testManifest } from '../testing/diff-fixtures.ts';
import { siteAsset } from './assets.ts';
import { buildDiffFiles } from './standalone-diff.ts';

describe('the standalone diff files', () => {
  it('the three formats, each chart as spec and SVG, and a page with the SVGs and the stylesheet inlined', async () => {
    const a = [
      ...pointRecords('native', 'TCP_STREAM', 100, [94.0, 94.1, 94.2]),
      ...pointRecords('native', 'UDP_STREAM', 50, [43.0, 43.1, 43.2]),
    ];
    const b = scaleThroughput(a, (r) => r.test === 'TCP_STREAM', 0.8);
    const files = await buildDiffFiles(
      diffRuns(
        { label: 'main', manifest: testManifest(), records: a },
        { label: 'feature <x>', manifest: testManifest({ runId: 'run-b' }), records: b },
      ),
    );
    expect(files.map((f) => f.path)).toEqual([
      'diff.json',
      'diff.md',
      'diff.txt',
      'charts/diff-native-tcp-stream.vl.json',
      'charts/diff-native-tcp-stream.svg',
      'charts/diff-native-udp-stream.vl.json',
      'charts/diff-native-udp-stream.svg',
      'index.html',
    ]);
    const html = files.at(-1)!.content;
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('<title>Diff: main → feature &lt;x&gt;</title>');
    expect(html).toContain('<h1>Diff: main → feature &lt;x&gt;</h1>');
    expect(html).not.toContain('<x>');
    expect(html.match(/<svg/g)).toHaveLength(2);
    expect(html).toContain(`<style>${siteAsset('site.css').toString('utf8')}</style>`);
  });
});
