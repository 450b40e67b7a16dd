/**
 * Hash routing: `#/<segment>/<segment>?<params>`. Pages own their params; a page that changes a
 * filter records it with `replaceParams` (no hashchange, so the page stays mounted).
 */

export interface Location {
  segments: string[];
  params: URLSearchParams;
}

export function currentLocation(): Location {
  const hash = location.hash.replace(/^#\/?/, '');
  const [path = '', query = ''] = hash.split('?', 2);
  const segments = path.split('/').filter((s) => s !== '').map((s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  });
  return { segments, params: new URLSearchParams(query) };
}

export function href(segments: readonly string[], params: Record<string, string | null | undefined> = {}): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== null && value !== undefined && value !== '') search.set(name, value);
  const query = search.toString();
  return `#/${segments.map(encodeURIComponent).join('/')}${query === '' ? '' : `?${query}`}`;
}

export function navigate(target: string): void {
  location.hash = target;
}

/** Records the page's current filters in the address without remounting the page. */
export function replaceParams(params: Record<string, string | null | undefined>): void {
  const { segments } = currentLocation();
  history.replaceState(history.state, '', href(segments, params));
}
