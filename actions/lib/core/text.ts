// Words for messages: "did you mean" for a mistyped command, option or name, and counts with their
// nouns. Escaping outside text for where it is written is core/escape.ts's business. Pure: no I/O.

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
  if (best !== null && best.distance <= Math.max(1, Math.floor(Math.max(typed.length, best.word.length) / 3)))
    return best.word;
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
