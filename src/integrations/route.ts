/** Route templates as the frameworks hand them over: strings as they are, RegExps as their source text. */
export function routeTemplate(path: unknown): string | null {
  if (typeof path === 'string') return path === '' ? null : path;
  if (path instanceof RegExp) return String(path);
  if (Array.isArray(path)) {
    const parts = path.map(routeTemplate).filter((part): part is string => part !== null);
    return parts.length === 0 ? null : parts.join(',');
  }
  return null;
}
