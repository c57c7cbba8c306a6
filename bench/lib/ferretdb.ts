/**
 * FerretDB's own per-command counters (its debug handler's /debug/metrics), so a scenario can say
 * how many database operations each event cost — the figure that explains FerretDB's CPU share.
 */
export type CommandCounts = Map<string, number>;

const REQUESTS = /^ferretdb_client_requests_total\{[^}]*command="([^"]+)"[^}]*\}\s+(\d+(?:\.\d+)?)$/;

export async function ferretdbCommands(port: number | null): Promise<CommandCounts | null> {
  if (!port) return null;
  try {
    const res = await fetch(`http://127.0.0.1:${port}/debug/metrics`);
    if (!res.ok) return null;
    const counts: CommandCounts = new Map();
    for (const line of (await res.text()).split('\n')) {
      const m = REQUESTS.exec(line);
      if (m) counts.set(m[1]!, (counts.get(m[1]!) ?? 0) + Number(m[2]));
    }
    return counts;
  } catch {
    return null;
  }
}

/** Commands issued between two readings, busiest first; null if either reading failed. */
export function commandsBetween(before: CommandCounts | null, after: CommandCounts | null): Array<[string, number]> | null {
  if (!before || !after) return null;
  return [...after]
    .map(([cmd, n]): [string, number] => [cmd, n - (before.get(cmd) ?? 0)])
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1]);
}
