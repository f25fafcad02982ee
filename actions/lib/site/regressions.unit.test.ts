// The regressions page and Atom feed: significant changes only, newest first, linked to both runs and the diff.

import { describe, expect, it } from 'vitest';
import { atomFeed, changeEntries, regressionsPage, type ChangeEntry } from './regressions.ts';

const entry = (a: string, b: string, day: number, regressed: number, improved: number): ChangeEntry => ({
  a: { runId: a, createdAt: `2026-01-0${day - 1}T00:00:00.000Z` },
  b: { runId: b, createdAt: `2026-01-0${day}T00:00:00.000Z` },
  diffPath: `diffs/${a}--${b}/index.html`,
  regressed,
  improved,
  marks: regressed
    ? [
        {
          runId: b,
          against: a,
          environment: 'native',
          metric: 'tcp-mean',
          regressed: true,
          improved: false,
          diffPath: `diffs/${a}--${b}/index.html`,
        },
      ]
    : [],
});

describe('regressions', () => {
  const entries = [entry('r1', 'r2', 2, 3, 0), entry('r2', 'r3', 3, 0, 0), entry('r3', 'r4', 4, 0, 2)];

  it('keeps only diffs with a significant change, newest first', () => {
    expect(changeEntries(entries).map((e) => e.b.runId)).toEqual(['r4', 'r2']);
  });

  it('lists each change with links to both runs and the diff, and says which headline metric moved', () => {
    const body = regressionsPage(entries).body.toString();
    expect(body.indexOf('runs/r4/index.html')).toBeLessThan(body.indexOf('runs/r2/index.html'));
    expect(body).toContain('<a href="runs/r1/index.html">r1</a>');
    expect(body).toContain('<a href="diffs/r1--r2/index.html">diff</a>');
    expect(body).toContain('3 regressed');
    expect(body).toContain('Native Linux: TCP throughput');
    expect(regressionsPage([entry('r2', 'r3', 3, 0, 0)]).body.toString()).toContain('No significant change');
  });

  it('is a well-formed Atom feed: one entry per change, updated at the newest, links relative to the feed', () => {
    const feed = atomFeed(entries);
    expect(feed.startsWith('<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">')).toBe(
      true,
    );
    expect(feed.match(/<entry>/g)).toHaveLength(2);
    expect(feed).toContain(
      '<updated>2026-01-04T00:00:00.000Z</updated>\n<link rel="alternate" type="text/html" href="regressions.html"/>',
    );
    expect(feed).toContain('<link rel="alternate" type="text/html" href="diffs/r1--r2/index.html"/>');
    expect(feed).toContain('<id>urn:virtnet:diff:r3:r4</id>');
    // Balanced: every element opened is closed.
    for (const tag of ['feed', 'entry', 'title', 'id', 'updated', 'summary'])
      expect(feed.split(`<${tag}>`).length + (tag === 'feed' ? 1 : 0), tag).toBe(feed.split(`</${tag}>`).length);
  });
});
