// Outside text (run labels, statuses, environment names, hostnames, error texts) into plain text and
// markdown. Plain text goes to terminals and .txt files: it must stay on its line and carry no
// control sequence. Markdown goes to job summaries, pull-request comments and .md files that GitHub
// renders: it must not break a table, start a list or heading, make a link or an image, or carry
// HTML. HTML itself is core/html.ts's business.

/** Characters that move the cursor, change colours or reorder text (C0/C1 controls, DEL, bidi overrides, line separators). */
const INVISIBLE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2028\u2029\u2066-\u2069]/g;

/** Outside text on one line: line breaks and tabs become spaces, every other control character its `\u{XX}` spelling. */
export function oneLine(value: string): string {
  return String(value)
    .replace(/\r\n|[\r\n\t]/g, ' ')
    .replace(INVISIBLE, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`);
}

/**
 * Outside text as inline markdown (a table cell, a heading, inside a paragraph): on one line,
 * HTML's three metacharacters as entities, and backslash-escaped: what makes code, links, images
 * and table cells (` [ ] |), '*' and '\', and what starts a heading, list or setext line at its
 * start. ('_' and '~' are left: emphasis is cosmetic, and '_' is in every test name.) GitHub
 * renders it as the same text.
 */
export function mdText(value: string): string {
  return oneLine(value)
    .replace(/[\\`*[\]|]/g, '\\$&')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
}

/** mdText for text that starts a line or a list item: a leading '#', '+', '=', '-' or "1." cannot start a block either. */
export function mdBlockText(value: string): string {
  return mdText(value)
    .replace(/^(\s*)([#+=-])/, '$1\\$2')
    .replace(/^(\s*\d+)([.)])/, '$1\\$2');
}

/**
 * Outside text as a markdown code span (shown verbatim, HTML included, as code): on one line,
 * clipped to `max` characters, `|` escaped for tables, fenced by more backticks than it contains.
 */
export function mdCode(value: string, max = 200): string {
  let v = oneLine(value);
  if (v.length > max) v = `${v.slice(0, max - 3)}...`;
  v = v.replace(/\|/g, '\\|');
  if (v.trim() === '') return '` `';
  const longest = Math.max(0, ...(v.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  const pad = v.startsWith('`') || v.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${v}${pad}${fence}`;
}

/** Edit distance (insertions, deletions, substitutions), for "did you mean". */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/**
 * The known word a mistyped one most likely meant: the nearest by edit distance, if it is within a
 * third of the longer word (at least 1), or one that starts with the typed word; else null.
 */
export function closestWord(typed: string, known: readonly string[]): string | null {
  let best: { word: string; distance: number } | null = null;
  for (const word of known) {
    const distance = editDistance(typed.toLowerCase(), word.toLowerCase());
    if (best === null || distance < best.distance) best = { word, distance };
  }
  if (best !== null && best.distance <= Math.max(1, Math.floor(Math.max(typed.length, best.word.length) / 3))) return best.word;
  return (typed.length >= 2 && known.find((w) => w.startsWith(typed))) || null;
}

/** " (did you mean X?)" for a mistyped word, or nothing. */
export function didYouMean(typed: string, known: readonly string[]): string {
  const word = closestWord(typed, known);
  return word === null || word === typed ? '' : ` (did you mean ${word}?)`;
}

/** "1 replicate", "3 replicates": a count with its noun in the right number. */
export function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : pluralForm}`;
}
