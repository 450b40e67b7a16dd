/** The API key lives in this tab's sessionStorage only: closing the tab signs out. */
const KEY = 'teracron.apiKey';

export function storedKey(): string | null {
  return sessionStorage.getItem(KEY);
}

export function storeKey(key: string): void {
  sessionStorage.setItem(KEY, key);
}

export function forgetKey(): void {
  sessionStorage.removeItem(KEY);
}

/** `tcn_` + base64url: checked here so a pasting slip gets a clear message before any request. */
export function keyProblem(key: string): string | null {
  if (key === '') return 'Paste the project\'s API key.';
  if (!key.startsWith('tcn_')) return 'An API key starts with "tcn_".';
  if (!/^tcn_[A-Za-z0-9_-]+$/.test(key)) return 'The key has characters that base64url does not use; paste it again without spaces or quotes.';
  return null;
}
