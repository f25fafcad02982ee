// The run page's verdict strip: counts, the claims the run could judge with one line each, refuted first.

import { describe, expect, it } from 'vitest';
import type { ClaimResult } from '../analyse/claims/judge.ts';
import { judgedHere, oneLineFinding, verdictStripHtml } from './site.ts';

function claim(id: string, verdict: ClaimResult['verdict'], extra: Partial<ClaimResult> = {}): ClaimResult {
  return {
    id,
    text: `claim ${id}`,
    section: 'III',
    kind: 'difference' as ClaimResult['kind'],
    quantifier: 'every',
    verdict,
    qualifier: null,
    onlyTcg: false,
    finding: '',
    evidence: `native - docker (from-100, 3 points): mean 0.45 x 10^6 bits/s; the paper: at least 1.00. Judged under: x.`,
    judged: '',
    conditions: '',
    limits: [],
    missing: [],
    note: null,
    contradicts: [],
    otherReading: null,
    parts: [],
    ...extra,
  };
}

describe('verdict strip', () => {
  it("says the claim's finding, else the evidence's first measured part without the paper's side, and cuts a long one", () => {
    expect(oneLineFinding({ finding: 'Docker is as fast as native.', evidence: 'a - b: mean 1; the paper: 2' })).toBe(
      'Docker is as fast as native.',
    );
    expect(oneLineFinding({ evidence: 'a - b: mean 1; the paper: 2 (fails). Judged under: y.' })).toBe('a - b: mean 1');
    expect(oneLineFinding({ evidence: 'only a finding. Judged under: y.' })).toBe('only a finding');
    const long = oneLineFinding({ evidence: `${'x'.repeat(500)}; the paper` });
    expect(long).toHaveLength(200);
    expect(long.endsWith('\u2026')).toBe(true);
  });

  it('judges here only a claim with every environment measured and none under TCG', () => {
    expect(judgedHere(claim('a', 'refuted'))).toBe(true);
    expect(judgedHere(claim('b', 'inconclusive', { qualifier: 'kvm not judged: TCG', onlyTcg: true }))).toBe(false);
    // Undecided by the data, everything measured: judged here, inconclusive.
    expect(judgedHere(claim('d', 'inconclusive'))).toBe(true);
    // A verdict on the parts judged, with a TCG guest beside them: judged here.
    expect(judgedHere(claim('e', 'refuted', { qualifier: 'fails for docker; kvm not judged: TCG' }))).toBe(true);
    expect(judgedHere(claim('c', 'inconclusive', { missing: ['kvm'] }))).toBe(false);
  });

  it('counts every verdict, lists the judged claims refuted first with their finding, and says how many it could not judge', () => {
    const html = verdictStripHtml([
      claim('s', 'supported'),
      claim('t', 'inconclusive', { qualifier: 'TCG, not KVM', onlyTcg: true }),
      claim('r', 'refuted'),
      claim('u', 'inconclusive', { missing: ['osv'] }),
    ]).toString();
    expect(html).toContain('<span class="count v-supported">1 supported</span>');
    expect(html).toContain('<span class="count v-refuted">1 refuted</span>');
    expect(html).toContain('<span class="count v-inconclusive">2 inconclusive</span>');
    expect(html).toContain('of 4 claims');
    const items = [...html.matchAll(/<li class="v-(\w+)"><a class="mark" href="#claim-(\w+)">/g)].map(
      (m) => `${m[1]}:${m[2]}`,
    );
    expect(items).toEqual(['refuted:r', 'supported:s']);
    expect(html).toContain(
      '<span class="finding">native - docker (from-100, 3 points): mean 0.45 x 10^6 bits/s</span>',
    );
    expect(html).toContain('2 claims this run could not judge');
  });

  it('lists at most four claims and says how many more there are; with none judged it says why', () => {
    const many = Array.from({ length: 9 }, (_, i) => claim(`c${i}`, 'supported'));
    const html = verdictStripHtml(many).toString();
    expect(html.match(/<li /g)).toHaveLength(4);
    expect(html).toContain('5 more claims judged here');
    const none = verdictStripHtml([
      claim('t', 'inconclusive', { qualifier: 'TCG, not KVM', onlyTcg: true }),
    ]).toString();
    expect(none).toContain('No claim could be judged on this run');
    expect(none).not.toContain('<li');
  });
});
