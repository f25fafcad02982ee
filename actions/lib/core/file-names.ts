// File names from outside text: a sweep's series and an environment's name become parts of chart
// file names, so they are made into names that cannot leave their directory or collide; a run id
// names a directory as it is, or is refused.

import { createHash } from 'node:crypto';

/** Letters, digits, '-' and '_', at most 64, no "--" (which marks the hashed form below). */
const PLAIN = /^(?!.*--)[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/**
 * A file-name part for outside text: the text itself when it is plain (so names such as
 * "from-100" stay readable and stable), otherwise a lower-case slug of it, "--" and 16 hex digits
 * of its SHA-256. Distinct texts give distinct parts; a part never holds '/', '.', '\' or a control.
 */
export function fileNamePart(text: string): string {
  if (PLAIN.test(text)) return text;
  const slug = text
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+/, '')
    .slice(0, 40)
    .replace(/-+$/, '');
  const hash = createHash('sha256').update(text).digest('hex').slice(0, 16);
  return `${slug || 'x'}--${hash}`;
}

const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Run ids become directory names: refuse anything that could escape the site or be ambiguous. */
export function checkRunId(runId: string): string {
  if (!SAFE_ID.test(runId))
    throw new Error(
      `run id ${JSON.stringify(runId)} cannot name a site directory: expected letters, digits, '.', '_' or '-'`,
    );
  return runId;
}
