/** The signed-in shell: header with project and navigation, the current page, live refresh. */
import type { Api } from './api.js';
import { ApiError } from './api.js';
import { h, setText } from './dom.js';
import { clock } from './format.js';
import { Poller } from './live.js';
import type { Page, PageContext, PageFactory } from './page.js';
import { eventsPage } from './pages/events.js';
import { issuePage } from './pages/issue.js';
import { issuesPage } from './pages/issues.js';
import { logsPage } from './pages/logs.js';
import { metricsPage } from './pages/metrics.js';
import { runsPage } from './pages/runs.js';
import { tracePage } from './pages/trace.js';
import { workflowsPage } from './pages/workflows.js';
import { currentLocation, href } from './router.js';
import type { Location } from './router.js';
import { refreshTimes } from './ui.js';

const POLL_MS = 5000;
const NAV: ReadonlyArray<[string, string]> = [['workflows', 'Workflows'], ['logs', 'Logs'], ['issues', 'Issues'], ['metrics', 'Metrics'], ['events', 'Events']];

function pageFor(location: Location): { section: string; factory: PageFactory } | null {
  const [first, second] = location.segments;
  if (first === 'workflows' && second === undefined) return { section: 'workflows', factory: workflowsPage };
  if (first === 'workflows') return { section: 'workflows', factory: runsPage };
  if (first === 'traces' && second !== undefined) return { section: 'workflows', factory: tracePage };
  if (first === 'metrics') return { section: 'metrics', factory: metricsPage };
  if (first === 'events') return { section: 'events', factory: eventsPage };
  if (first === 'logs') return { section: 'logs', factory: logsPage };
  if (first === 'issues' && second === undefined) return { section: 'issues', factory: issuesPage };
  if (first === 'issues') return { section: 'issues', factory: issuePage };
  return null;
}

export class App {
  readonly #root: HTMLElement;
  readonly #main = h('main', { id: 'main', class: 'main', tabindex: '-1' });
  readonly #nav: HTMLElement;
  readonly #liveText = h('span', null, 'Connecting…');
  readonly #liveTime = h('span', { class: 'live-time' });
  readonly #live = h('span', { class: 'live', 'data-state': 'idle', 'data-testid': 'live' }, h('span', { class: 'live-dot', 'aria-hidden': 'true' }), this.#liveText, this.#liveTime);
  readonly #ctx: PageContext;
  readonly #poller: Poller;
  #page: Page | null = null;
  readonly #onHashChange = (): void => this.#mount(true);

  constructor(root: HTMLElement, api: Api, slug: string, signOut: () => void) {
    this.#root = root;
    this.#ctx = { api, slug, refreshNow: () => void this.#poller.now() };
    this.#poller = new Poller(POLL_MS, () => this.#tick());
    this.#nav = h('nav', { class: 'nav', 'aria-label': 'Sections' },
      ...NAV.map(([section, label]) => h('a', { href: href([section]), 'data-section': section }, label)));
    const header = h('header', { class: 'topbar' },
      h('div', { class: 'topbar-inner' },
        h('a', { class: 'brand', href: href(['workflows']) }, h('span', { class: 'brand-mark', 'aria-hidden': 'true' }), h('span', { class: 'brand-name' }, 'teracron')),
        h('span', { class: 'project', title: 'Project' }, h('span', { class: 'visually-hidden' }, 'Project '), h('span', { 'data-testid': 'project-slug' }, slug)),
        this.#nav,
        h('div', { class: 'topbar-actions' },
          this.#live,
          h('button', { type: 'button', class: 'button button-quiet', 'data-testid': 'refresh', 'aria-label': 'Refresh now', onclick: () => void this.#poller.now() }, h('span', { 'aria-hidden': 'true' }, '↻'), h('span', { class: 'refresh-label' }, 'Refresh')),
          h('button', { type: 'button', class: 'button button-quiet', 'data-testid': 'sign-out', onclick: signOut }, 'Sign out'))));
    root.replaceChildren(h('a', { class: 'skip-link', href: '#main', onclick: (e) => {
      e.preventDefault();
      this.#main.focus();
    } }, 'Skip to content'), header, this.#main);
    window.addEventListener('hashchange', this.#onHashChange);
    this.#mount(false);
    this.#poller.start();
  }

  destroy(): void {
    window.removeEventListener('hashchange', this.#onHashChange);
    this.#poller.stop();
    this.#page?.destroy();
    this.#page = null;
    this.#root.replaceChildren();
  }

  #mount(navigated: boolean): void {
    const location = currentLocation();
    const target = pageFor(location);
    if (target === null) {
      // `/` and unknown addresses land on the workflows, recorded in the address bar.
      history.replaceState(history.state, '', href(['workflows']));
      return this.#mount(navigated);
    }
    this.#page?.destroy();
    this.#page = target.factory(this.#ctx, location);
    this.#main.replaceChildren(this.#page.element);
    for (const link of this.#nav.querySelectorAll<HTMLAnchorElement>('a')) {
      if (link.dataset.section === target.section) link.setAttribute('aria-current', 'page');
      else link.removeAttribute('aria-current');
    }
    if (navigated) {
      window.scrollTo(0, 0);
      this.#page.element.querySelector<HTMLElement>('h1')?.setAttribute('tabindex', '-1');
      this.#page.element.querySelector<HTMLElement>('h1')?.focus({ preventScroll: true });
    }
    void this.#poller.now();
  }

  async #tick(): Promise<number | void> {
    const page = this.#page;
    if (page === null) return;
    try {
      await page.refresh();
      if (page !== this.#page) return;
      refreshTimes(this.#main);
      this.#live.dataset.state = 'ok';
      setText(this.#liveText, 'Live');
      setText(this.#liveTime, `· ${clock(Date.now())}`);
    } catch (error) {
      if (page !== this.#page) return;
      if (error instanceof ApiError && error.status === 401) return;
      page.showError(error);
      this.#live.dataset.state = 'error';
      setText(this.#liveText, error instanceof ApiError && error.status === 0 ? 'Offline' : 'Error');
      setText(this.#liveTime, '');
      if (error instanceof ApiError && error.retryAfterS !== null) return error.retryAfterS * 1000;
    }
  }
}
