import { auth, hasSessionHint } from '$lib/stores/auth.svelte';
import { markdown } from '$lib/utils/markdown-loader.svelte';

// A client-only SPA: adapter-static writes index.html as the fallback for every route.
export const ssr = false;
export const prerender = false;

// Restore the session as soon as the app's code runs, not after the first render: the refresh
// call heads every cold load's chain of requests. (init() runs once; the root layout awaits the
// same call.)
if (typeof window !== 'undefined') {
  void auth.init();
  // A signed-in visit renders messages: the Markdown renderer (a lazy chunk) loads while the
  // refresh call is out, so the first page does not render twice.
  if (hasSessionHint()) markdown();
}
