/**
 * The known name a misspelled one was most likely meant to be, for warnings that say "did you
 * mean …". Distance is optimal string alignment (Levenshtein plus swapping two neighbours, the
 * commonest typo), case-insensitive. A candidate counts as related when the distance is at most
 * half the longer name, or when one name holds the other whole (KEY in API_KEY, ENV in
 * ENVIRONMENT: a shortened name is far in edits but plainly meant). A name related to no
 * candidate gets no suggestion: `FOO` suggesting `DEBUG` would send the reader the wrong way.
 */

/** The closest related candidate, or undefined when none is related. */
export function closestName(name: string, candidates: readonly string[]): string | undefined {
  const wanted = name.toUpperCase();
  let best: string | undefined;
  let bestScore = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const known = candidate.toUpperCase();
    const distance = editDistance(wanted, known);
    if (!related(wanted, known, distance)) continue;
    // On a tie, a name that holds all that was typed wins: FLUSH_INTERVAL is TRACE_FLUSH_INTERVAL
    // rather than INTERVAL.
    const score = distance * 2 + (known.includes(wanted) ? 0 : 1);
    if (score < bestScore) {
      best = candidate;
      bestScore = score;
    }
  }
  return best;
}

function related(a: string, b: string, distance: number): boolean {
  const [shorter, longer] = a.length <= b.length ? [a, b] : [b, a];
  return distance <= Math.floor(longer.length / 2) || (shorter.length >= 3 && longer.includes(shorter));
}

export function editDistance(a: string, b: string): number {
  // Three rows of the dynamic-programming table: two back is what a swap needs.
  let before = new Array<number>(b.length + 1).fill(0);
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  let current = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    current[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) value = Math.min(value, before[j - 2]! + 1);
      current[j] = value;
    }
    [before, previous, current] = [previous, current, before];
  }
  return previous[b.length]!;
}
