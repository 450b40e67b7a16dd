/**
 * A small bar sparkline in SVG: one bar per bucket, scaled to the largest. Drawn with SVG
 * attributes (no inline style), which the page's CSP allows.
 */
const NS = 'http://www.w3.org/2000/svg';
const WIDTH = 96;
const HEIGHT = 24;

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>): SVGElementTagNameMap[K] {
  const el = document.createElementNS(NS, tag);
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, String(value));
  return el;
}

/** `label` is what a screen reader hears instead of the bars. */
export function sparkline(counts: readonly number[], label: string): SVGSVGElement {
  const root = svg('svg', { class: 'sparkline', width: WIDTH, height: HEIGHT, viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: 'img', 'aria-label': label });
  root.append(svg('line', { class: 'sparkline-base', x1: 0, y1: HEIGHT - 0.5, x2: WIDTH, y2: HEIGHT - 0.5 }));
  const max = Math.max(1, ...counts);
  const step = counts.length === 0 ? WIDTH : WIDTH / counts.length;
  counts.forEach((n, i) => {
    if (n <= 0) return;
    const height = Math.max(2, Math.round(((HEIGHT - 2) * n) / max));
    root.append(svg('rect', { class: 'sparkline-bar', x: (i * step + 0.5).toFixed(1), y: HEIGHT - height, width: Math.max(1, step - 1).toFixed(1), height }));
  });
  return root;
}
