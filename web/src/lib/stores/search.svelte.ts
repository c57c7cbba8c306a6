/**
 * Whether the message search is open and what it holds. The query stays between openings, as
 * in Slack: reopening shows the last search.
 */
export const searchPanel = $state({ open: false, query: '' });

/** Opens the search; with `query`, replaces what it holds (say, `in:general ` from a header). */
export function openSearch(query?: string) {
  if (query !== undefined) searchPanel.query = query;
  searchPanel.open = true;
}

export function closeSearch() {
  searchPanel.open = false;
}
