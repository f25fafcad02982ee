// Which claims a run could judge, and what it found, in one line each: the run page's verdict strip
// and the job summary say the same, from here. Pure.

import type { ClaimResult } from '../analyse/claims/judge.ts';

/**
 * A claim this run could judge: it has a verdict, or it is inconclusive with all its environments
 * measured and not only for TCG (the data left it undecided). An analysis older than onlyTcg marked
 * a TCG claim by its qualifier alone.
 */
export function judgedHere(c: Pick<ClaimResult, 'verdict' | 'missing' | 'qualifier'> & { onlyTcg?: boolean }): boolean {
  if (c.verdict !== 'inconclusive') return true;
  return c.missing.length === 0 && !(c.onlyTcg ?? c.qualifier !== null);
}

const FINDING_MAX = 200;

/**
 * What the run found, on one line: the claim's finding in words, or (an analysis written before
 * findings existed) the evidence's first measured part, without the paper's side or the test.
 */
export function oneLineFinding(c: Pick<ClaimResult, 'evidence'> & { finding?: string }): string {
  const first = (c.finding || c.evidence.split(/; the paper|\. Judged under/)[0]!).trim();
  return first.length <= FINDING_MAX ? first : `${first.slice(0, FINDING_MAX - 1)}\u2026`;
}
