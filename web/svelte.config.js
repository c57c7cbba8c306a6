import adapter from '@sveltejs/adapter-static';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** @type {import('@sveltejs/kit').Config} */
export default {
  preprocess: vitePreprocess(),
  compilerOptions: { runes: true },
  kit: {
    // A pure SPA: nginx serves build/ and falls back to index.html for client-side routes.
    adapter: adapter({ pages: 'build', assets: 'build', fallback: 'index.html', strict: false }),
    // Registered from the notifications opt-in flow and on load (see lib/utils/push.ts).
    serviceWorker: { register: false },
    alias: { $components: 'src/lib/components' },
  },
};
