/**
 * Waterfall layout, free of the DOM: each span's depth (from parent links; a span whose parent
 * is not in the trace is a root), tree order (children under their parent, by start time), and
 * its offset and width as percentages of the trace's extent.
 */
import type { Span } from './types.js';

export interface WaterfallRow {
  span: Span;
  depth: number;
  offsetPct: number;
  widthPct: number;
  /** Start relative to the trace's first span, ms. */
  offsetMs: number;
}

export interface WaterfallLayout {
  rows: WaterfallRow[];
  start: number;
  extentMs: number;
}

export function spanDepths(spans: readonly Span[]): Map<string, number> {
  const byId = new Map(spans.map((s) => [s.span_id, s]));
  const depths = new Map<string, number>();
  const depthOf = (span: Span): number => {
    const known = depths.get(span.span_id);
    if (known !== undefined) return known;
    // Walk up iteratively; `seen` stops a cycle from looping forever (its spans count as roots).
    const chain: Span[] = [];
    const seen = new Set<string>();
    let current: Span | undefined = span;
    let base = -1;
    while (current !== undefined && !seen.has(current.span_id)) {
      const cached = depths.get(current.span_id);
      if (cached !== undefined) {
        base = cached;
        break;
      }
      seen.add(current.span_id);
      chain.push(current);
      current = current.parent_span_id === null ? undefined : byId.get(current.parent_span_id);
    }
    for (let i = chain.length - 1; i >= 0; i--) depths.set(chain[i]!.span_id, base + (chain.length - i));
    return depths.get(span.span_id)!;
  };
  for (const span of spans) depthOf(span);
  return depths;
}

export function layoutWaterfall(spans: readonly Span[]): WaterfallLayout {
  if (spans.length === 0) return { rows: [], start: 0, extentMs: 0 };
  const depths = spanDepths(spans);
  const start = spans.reduce((min, s) => Math.min(min, s.started_at), Infinity);
  const end = spans.reduce((max, s) => Math.max(max, s.started_at + Math.max(0, s.duration_ms)), -Infinity);
  const extentMs = Math.max(end - start, 0.001);

  const children = new Map<string | null, Span[]>();
  const byId = new Set(spans.map((s) => s.span_id));
  for (const span of spans) {
    const parent = span.parent_span_id !== null && byId.has(span.parent_span_id) && depths.get(span.span_id)! > 0 ? span.parent_span_id : null;
    const list = children.get(parent) ?? [];
    list.push(span);
    children.set(parent, list);
  }
  for (const list of children.values()) list.sort((a, b) => a.started_at - b.started_at);

  const rows: WaterfallRow[] = [];
  const placed = new Set<string>();
  const visit = (span: Span): void => {
    if (placed.has(span.span_id)) return;
    placed.add(span.span_id);
    const offsetMs = span.started_at - start;
    rows.push({
      span,
      depth: depths.get(span.span_id)!,
      offsetMs,
      offsetPct: (100 * offsetMs) / extentMs,
      widthPct: (100 * Math.max(0, span.duration_ms)) / extentMs,
    });
    for (const child of children.get(span.span_id) ?? []) visit(child);
  };
  for (const root of children.get(null) ?? []) visit(root);
  for (const span of spans) visit(span);
  return { rows, start, extentMs };
}

/** About five round tick positions across the extent, in ms. */
export function ticks(extentMs: number): number[] {
  const raw = extentMs / 4;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let t = 0; t <= extentMs + 1e-9; t += step) out.push(t);
  return out;
}
