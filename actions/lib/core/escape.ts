// One escaping function per sink: every outside string (run labels, statuses, environment names
// and descriptions, hostnames, link settings, error texts, claim texts) goes through the one for
// where it is written. Outside means anything the tool did not make itself: a run directory, a
// manifest, a commit, a claims or plan file, a coordinator's message, a command's output.
//
//   sink                                      function
//   HTML (site, diff pages)                   core/html.ts: the html`` tag escapes every value
//   markdown (tables.md, claims.md, diff.md,  mdText (inline), mdBlockText (at a line start),
//     job summaries, PR comments)             mdCode (as code)
//   a terminal, a .txt file (one field)       oneLine: on one line, no control sequence
//   a terminal (a whole text, lines kept)     terminalText: no control sequence (ESC, OSC, CSI,
//                                             C1, bidi overrides), line breaks kept
//   CSV (report/*.csv)                        csvCell / csvLine: quoted, no formula
//   a workflow log (core.info in actions)     workflowLogText: no line that is a workflow command
//
// Workflow commands with a value (core.warning, core.error, core.setFailed, core.setOutput,
// core.startGroup) are escaped by @actions/core itself (%, CR and LF become %25, %0D, %0A), so the
// runner reads them as one command: only a plain log line, written as it is, needs this module.
// Pure: no I/O.

/** Characters that move the cursor, change colours or reorder text (C0/C1 controls, DEL, bidi overrides, line separators). */
const INVISIBLE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2028\u2029\u2066-\u2069]/g;

/** A character's visible spelling, \u{XX}. */
const spelled = (c: string) => `\\u{${c.codePointAt(0)!.toString(16)}}`;

/** Outside text on one line: line breaks and tabs become spaces, every other control character its `\u{XX}` spelling. */
export function oneLine(value: string): string {
  return String(value)
    .replace(/\r\n|[\r\n\t]/g, ' ')
    .replace(INVISIBLE, spelled);
}

/**
 * Text for a terminal, its line breaks and tabs kept: every other control character (ESC, which
 * starts colour, cursor and OSC sequences such as OSC 52 that writes the clipboard; CR, which
 * overwrites a line; C1 controls such as CSI; DEL; bidi overrides and isolates; the Unicode line
 * separators) becomes its JSON spelling `\uXXXX`, so a JSON document printed stays valid JSON (these
 * characters can only be inside its strings). A field inside a line of text goes through oneLine
 * first, so it cannot start a line of its own (a forged verdict line).
 */
export function terminalText(value: string): string {
  return String(value)
    .replace(/\r\n/g, '\n')
    .replace(INVISIBLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * Text for a workflow log line (core.info and anything else written as it is to an action's
 * output): each line (the runner splits on CR and LF) with its control characters spelled out, and
 * a line that the runner would read as a workflow command (`::name ...::` or the older `##[name]`,
 * after leading spaces) broken up (`: :`, `# #[`), so it is shown, never obeyed (no forged
 * error, no add-mask, no stop-commands).
 */
export function workflowLogText(value: string): string {
  return String(value)
    .split(/\r\n|\r|\n/)
    .map((line) =>
      line
        .replace(INVISIBLE, spelled)
        .replace(/^(\s*):(?=:)/, '$1: ')
        .replace(/^(\s*)#(?=#\[)/, '$1# '),
    )
    .join('\n');
}

/** A value of a CSV cell: text, a number, or nothing. */
export type CsvValue = string | number | boolean | null | undefined;

/** A plain number as text (what the report's number formatting makes): data, never a formula. */
const CSV_NUMBER = /^-?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?%?$/i;

/**
 * One CSV cell (RFC 4180) that a spreadsheet cannot run: text starting with = + - @, a tab or a
 * CR (what spreadsheets read as a formula or strip before one) gets a leading apostrophe, the
 * usual mark of "text, not formula"; a cell holding a comma, a quote or a line break is quoted, so
 * outside text cannot shift columns or add rows. Numbers (and text that is a plain number, such as
 * -1.5) are kept as they are.
 */
export function csvCell(value: CsvValue): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  let text = String(value);
  if (!CSV_NUMBER.test(text) && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One CSV line of cells, each through csvCell. */
export function csvLine(cells: readonly CsvValue[]): string {
  return cells.map(csvCell).join(',');
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
