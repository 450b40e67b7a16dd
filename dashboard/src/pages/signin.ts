/** The sign-in view: paste the project's API key; it is checked with /v1/auth/whoami. */
import { h } from '../dom.js';
import { keyProblem } from '../session.js';

export interface SignInOptions {
  /** Why the user is here again (a 401's text), if anything. */
  error?: string | null;
  /** Resolves with an error text to show, or null once signed in. */
  submit(key: string): Promise<string | null>;
}

export function signInView(options: SignInOptions): HTMLElement {
  const input = h('input', {
    id: 'api-key',
    name: 'api-key',
    type: 'password',
    autocomplete: 'off',
    spellcheck: 'false',
    required: true,
    placeholder: 'tcn_…',
    'aria-describedby': 'api-key-help',
    'data-testid': 'api-key-input',
  });
  const error = h('p', { class: 'form-error', role: 'alert', 'data-testid': 'signin-error' }, options.error ?? '');
  const button = h('button', { type: 'submit', class: 'button button-primary', 'data-testid': 'signin-submit' }, 'Sign in');
  const form = h('form', {
    class: 'signin-form',
    novalidate: true,
    onsubmit: async (event) => {
      event.preventDefault();
      const key = input.value.trim();
      const problem = keyProblem(key);
      if (problem !== null) {
        error.textContent = problem;
        input.focus();
        return;
      }
      button.disabled = true;
      button.textContent = 'Checking…';
      const failure = await options.submit(key);
      if (failure !== null) {
        error.textContent = failure;
        button.disabled = false;
        button.textContent = 'Sign in';
        input.select();
      }
    },
  },
  h('label', { for: 'api-key' }, 'Project API key'),
  input,
  h('p', { id: 'api-key-help', class: 'help' },
    'The ', h('code', null, 'tcn_…'), ' key printed by ', h('code', null, 'teracron keygen'), ' (also in ', h('code', null, '<data>/keys/<slug>.apikey'),
    '). It stays in this tab\'s session storage and goes to this collector only.'),
  error,
  button);
  queueMicrotask(() => input.focus());
  return h('main', { class: 'signin' },
    h('div', { class: 'signin-card card' },
      h('div', { class: 'brand brand-large' }, h('span', { class: 'brand-mark', 'aria-hidden': 'true' }), 'teracron'),
      h('h1', { class: 'signin-title' }, 'Sign in to this collector'),
      h('p', { class: 'muted' }, 'Traces, workflows, metrics and events of one project.'),
      form));
}
