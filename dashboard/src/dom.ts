/**
 * Building DOM without innerHTML: every string from the API becomes a text node or an attribute
 * value, never markup. Styles are set through CSSOM properties, which the page's CSP allows
 * (style attributes in markup it would not).
 */

export type Child = Node | string | number | null | undefined | false;
type AttrValue = string | number | boolean | null | undefined;
export type Attrs = Record<string, AttrValue | ((event: Event) => void)>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs | null = null, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (attrs !== null) {
    for (const [name, value] of Object.entries(attrs)) {
      if (typeof value === 'function') el.addEventListener(name.slice(2), value);
      else if (value === true) el.setAttribute(name, '');
      else if (value !== false && value !== null && value !== undefined) el.setAttribute(name, String(value));
    }
  }
  append(el, children);
  return el;
}

export function append(el: Element, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Sets text only when it changed, so live refreshes do not disturb selection or layout. */
export function setText(el: Element, text: string): void {
  if (el.textContent !== text) el.textContent = text;
}

const SIGNATURE = Symbol('signature');
type Keyed = HTMLElement & { [SIGNATURE]?: string };

/**
 * Brings `parent`'s children in line with `items`, keyed by `key`: a row whose signature did
 * not change keeps its element (and so its focus and scroll position), a changed one is
 * rendered again in place, missing ones are removed.
 */
export function syncChildren<T>(parent: HTMLElement, items: readonly T[], key: (item: T) => string, signature: (item: T) => string, render: (item: T) => HTMLElement): void {
  const existing = new Map<string, Keyed>();
  for (const child of Array.from(parent.children) as Keyed[]) {
    const k = child.dataset.key;
    if (k !== undefined && !existing.has(k)) existing.set(k, child);
    else child.remove();
  }
  let cursor: Element | null = parent.firstElementChild;
  for (const item of items) {
    const k = key(item);
    const sig = signature(item);
    let el = existing.get(k);
    existing.delete(k);
    if (el === undefined || el[SIGNATURE] !== sig) {
      const fresh = render(item) as Keyed;
      fresh.dataset.key = k;
      fresh[SIGNATURE] = sig;
      if (el !== undefined) {
        if (cursor === el) cursor = fresh;
        el.replaceWith(fresh);
      }
      el = fresh;
    }
    if (el !== cursor) parent.insertBefore(el, cursor);
    else cursor = cursor.nextElementSibling;
  }
  for (const leftover of existing.values()) leftover.remove();
}

export function icon(kind: 'check' | 'cross' | 'clock' | 'dot'): HTMLSpanElement {
  const glyph = { check: '✓', cross: '✕', clock: '◷', dot: '•' }[kind];
  return h('span', { class: `icon icon-${kind}`, 'aria-hidden': 'true' }, glyph);
}
