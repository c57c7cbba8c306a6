// A client-only SPA: adapter-static writes index.html as the fallback for every route.
export const ssr = false;
export const prerender = false;
