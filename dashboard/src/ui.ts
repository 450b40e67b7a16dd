/** Small pieces every page uses: state boxes, status badges, headers, form controls, times. */
import { h, icon, setText } from './dom.js';
import type { Child } from './dom.js';
import { dateTime, relative } from './format.js';

export function stateBox(kind: 'loading' | 'empty' | 'error', title: string, ...detail: Child[]): HTMLElement {
  return h('div', { class: `state state-${kind}`, role: kind === 'error' ? 'alert' : 'status', 'data-testid': `state-${kind}` },
    kind === 'loading' ? h('span', { class: 'spinner', 'aria-hidden': 'true' }) : null,
    h('p', { class: 'state-title' }, title),
    detail.length > 0 ? h('div', { class: 'state-detail' }, ...detail) : null);
}

const STATUS_LABEL: Record<string, string> = { succeeded: 'succeeded', failed: 'failed', in_progress: 'in progress', started: 'in progress' };

export function statusBadge(status: string): HTMLElement {
  const kind = status === 'failed' ? 'cross' : status === 'succeeded' ? 'check' : 'clock';
  const tone = status === 'failed' ? 'bad' : status === 'succeeded' ? 'good' : 'busy';
  return h('span', { class: `badge badge-${tone}` }, icon(kind), STATUS_LABEL[status] ?? status);
}

export function pageHeader(title: string, options: { crumbs?: Array<[string, string]>; subtitle?: Child; actions?: Child } = {}): HTMLElement {
  return h('header', { class: 'page-header' },
    options.crumbs && options.crumbs.length > 0
      ? h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' },
        h('ol', null, ...options.crumbs.map(([label, target]) => h('li', null, h('a', { href: target }, label)))))
      : null,
    h('div', { class: 'page-title-row' },
      h('h1', { class: 'page-title' }, title),
      options.actions ?? null),
    options.subtitle !== undefined ? h('p', { class: 'page-subtitle' }, options.subtitle) : null);
}

/** A `<time>` that `refreshTimes` keeps saying "12 s ago" as time passes. */
export function relTime(ts: number): HTMLTimeElement {
  return h('time', { datetime: new Date(ts).toISOString(), title: dateTime(ts), 'data-reltime': ts }, relative(ts));
}

export function refreshTimes(root: ParentNode, now = Date.now()): void {
  for (const el of root.querySelectorAll<HTMLElement>('[data-reltime]')) setText(el, relative(Number(el.dataset.reltime), now));
}

export interface Choice {
  value: string;
  label: string;
}

/** A row of toggle buttons (one pressed) for a small fixed set of choices. */
export function segmented(label: string, choices: readonly Choice[], value: string, onChange: (value: string) => void, testId?: string): HTMLElement {
  const group = h('div', { class: 'segmented', role: 'group', 'aria-label': label, 'data-testid': testId });
  const buttons = choices.map((choice) =>
    h('button', {
      type: 'button',
      class: 'segment',
      'aria-pressed': String(choice.value === value),
      'data-value': choice.value,
      onclick: () => {
        for (const b of buttons) b.setAttribute('aria-pressed', String(b.dataset.value === choice.value));
        onChange(choice.value);
      },
    }, choice.label));
  group.append(...buttons);
  return group;
}

let fieldIds = 0;

export function selectField(label: string, choices: readonly Choice[], value: string, onChange: (value: string) => void, testId?: string): { field: HTMLElement; select: HTMLSelectElement } {
  const id = `field-${++fieldIds}`;
  const select = h('select', { id, 'data-testid': testId, onchange: () => onChange(select.value) });
  setChoices(select, choices, value);
  return { field: h('div', { class: 'field' }, h('label', { for: id }, label), select), select };
}

/** Replaces a select's options only when they changed, keeping the selection when it still exists. */
export function setChoices(select: HTMLSelectElement, choices: readonly Choice[], value: string): void {
  const same = select.options.length === choices.length && choices.every((c, i) => select.options[i]!.value === c.value && select.options[i]!.text === c.label);
  if (!same) select.replaceChildren(...choices.map((c) => h('option', { value: c.value }, c.label)));
  if (select.value !== value && choices.some((c) => c.value === value)) select.value = value;
}

export function searchField(label: string, value: string, placeholder: string, onInput: (value: string) => void, testId?: string): HTMLElement {
  const id = `field-${++fieldIds}`;
  const input = h('input', { id, type: 'search', value, placeholder, autocomplete: 'off', spellcheck: 'false', 'data-testid': testId, oninput: () => onInput(input.value) });
  return h('div', { class: 'field field-grow' }, h('label', { for: id }, label), input);
}

/** A definition list of metadata / captured params; every key and value is text. */
export function attributeList(attributes: Record<string, unknown>, emptyText: string): HTMLElement {
  const entries = Object.entries(attributes);
  if (entries.length === 0) return h('p', { class: 'muted' }, emptyText);
  return h('dl', { class: 'attributes' }, ...entries.flatMap(([key, value]) => [h('dt', null, key), h('dd', null, typeof value === 'string' ? value : JSON.stringify(value))]));
}
