/**
 * The Markdown renderer (markdown-it and DOMPurify, ~55 KB gzipped) loads on first use instead of
 * in the first page load, which has a 150 KB budget (src/bundle-size.test.ts). Until it is
 * there, callers show the plain body; the first call starts loading it, and every component
 * that asked re-renders when it arrives (the value is reactive state).
 */
type MarkdownModule = typeof import('./markdown');

let loaded = $state.raw<MarkdownModule | null>(null);
let loading: Promise<unknown> | null = null;

export function markdown(): MarkdownModule | null {
  loading ??= import('./markdown').then(
    (m) => (loaded = m),
    // A failed chunk load (a deploy replaced it, the network dropped) keeps plain text; the next
    // render tries again.
    () => (loading = null),
  );
  return loaded;
}
