/** Entry point: sign in (or reuse this tab's key), then run the app; a 401 anywhere signs out. */
import { Api, ApiError } from './api.js';
import { App } from './app.js';
import { signInView } from './pages/signin.js';
import { forgetKey, storedKey, storeKey } from './session.js';
import type { Whoami } from './types.js';
import { stateBox } from './ui.js';

const root = document.getElementById('app')!;
let app: App | null = null;

function showSignIn(error: string | null = null): void {
  app?.destroy();
  app = null;
  forgetKey();
  document.title = 'Sign in · teracron';
  root.replaceChildren(signInView({ error, submit: (key) => enter(key) }));
}

function describe(error: unknown): string {
  if (error instanceof ApiError) return error.hint === null ? error.message : `${error.message} — ${error.hint}`;
  return error instanceof Error ? error.message : String(error);
}

/** Checks the key with whoami and starts the app; resolves with the error text on failure. */
async function enter(key: string): Promise<string | null> {
  let unauthorized = false;
  const api = new Api(key, (error) => {
    unauthorized = true;
    if (app !== null) showSignIn(describe(error));
  });
  try {
    const who = await api.get<Whoami>('/v1/auth/whoami');
    storeKey(key);
    app = new App(root, api, who.project_slug, () => showSignIn());
    return null;
  } catch (error) {
    if (unauthorized) forgetKey();
    return describe(error);
  }
}

const saved = storedKey();
if (saved === null) showSignIn();
else {
  root.replaceChildren(stateBox('loading', 'Signing in…'));
  void enter(saved).then((failure) => {
    if (failure !== null) showSignIn(failure);
  });
}
