/**
 * Orders a trace's spans for display: by started_at, except that a span never precedes its
 * parent. Clocks of different hosts skew and timestamps are whole milliseconds, so a child can
 * carry an earlier or equal started_at; such a child is held back and placed right after its
 * parent (its own subtree in started_at order). Spans whose parent is not in the trace keep their
 * place; spans caught in a parent cycle (malformed input) are appended, never lost.
 */
interface Node {
  span_id: string;
  parent_span_id: string | null;
}

/** `sorted` must already be ordered by started_at (ties in a stable order). */
export function parentsFirst<T extends Node>(sorted: readonly T[]): T[] {
  const ids = new Set<string>();
  for (const span of sorted) ids.add(span.span_id);
  const placed = new Set<string>();
  const waiting = new Map<string, T[]>();
  const out: T[] = [];

  const place = (top: T): void => {
    const stack = [top];
    while (stack.length > 0) {
      const span = stack.pop()!;
      if (placed.has(span.span_id)) continue;
      placed.add(span.span_id);
      out.push(span);
      const children = waiting.get(span.span_id);
      if (children === undefined) continue;
      waiting.delete(span.span_id);
      for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!);
    }
  };

  for (const span of sorted) {
    const parent = span.parent_span_id;
    if (parent !== null && parent !== span.span_id && ids.has(parent) && !placed.has(parent)) {
      const siblings = waiting.get(parent);
      if (siblings === undefined) waiting.set(parent, [span]);
      else siblings.push(span);
    } else {
      place(span);
    }
  }
  if (out.length < sorted.length) {
    for (const span of sorted) place(span);
  }
  return out;
}
