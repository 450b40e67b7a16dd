/** What the app shell needs from a page, and the part every page shares. */
import type { Api } from './api.js';
import { ApiError } from './api.js';
import { h } from './dom.js';
import type { Location } from './router.js';
import { stateBox } from './ui.js';

export interface PageContext {
  api: Api;
  slug: string;
  /** Refreshes now instead of at the next tick, e.g. after a filter changed. */
  refreshNow(): void;
}

export interface Page {
  readonly element: HTMLElement;
  /** Fetches and renders what changed; rejects with the error to show. */
  refresh(): Promise<void>;
  /** Shows a failed refresh: in place of the content before the first success, else as a banner. */
  showError(error: unknown): void;
  destroy(): void;
}

export type PageFactory = (ctx: PageContext, location: Location) => Page;

export abstract class BasePage implements Page {
  readonly element: HTMLElement;
  protected readonly body: HTMLElement;
  readonly #banner: HTMLElement;
  protected loaded = false;
  /** False once the page is left: an answer that arrives later must not touch the address or the DOM. */
  protected alive = true;

  constructor(protected readonly ctx: PageContext, className: string) {
    this.body = h('div', { class: 'page-body' }, stateBox('loading', 'Loading…'));
    this.#banner = h('div', { class: 'banner-slot' });
    this.element = h('section', { class: `page ${className}` }, this.#banner, this.body);
  }

  /** Puts the page's title and controls above the banner, so they show while loading. */
  protected setHeader(...nodes: HTMLElement[]): void {
    this.element.prepend(...nodes);
  }

  abstract refresh(): Promise<void>;

  protected markLoaded(): void {
    this.loaded = true;
    this.#banner.replaceChildren();
  }

  showError(error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    const hint = error instanceof ApiError ? error.hint : null;
    if (!this.loaded) {
      this.body.replaceChildren(stateBox('error', message, hint ?? ''));
      return;
    }
    this.#banner.replaceChildren(h('div', { class: 'banner', role: 'alert' }, h('strong', null, 'Could not refresh: '), message, hint !== null ? ` — ${hint}` : ''));
  }

  destroy(): void {
    this.alive = false;
  }
}
