/** A scrape in Prometheus's text format, as samples keyed `name{label=value,...}` (labels sorted). */
export type Samples = Map<string, number>;

function keyOf(name: string, labels: Record<string, string>): string {
  const pairs = Object.entries(labels)
    .map(([label, value]) => `${label}=${value}`)
    .sort();
  return pairs.length > 0 ? `${name}{${pairs.join(',')}}` : name;
}

export function parseMetrics(text: string): Samples {
  const samples: Samples = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([A-Za-z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels = Object.fromEntries(
      [...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map(([, label = '', value = '']) => [label, value]),
    );
    samples.set(keyOf(match[1] ?? '', labels), Number(match[3]));
  }
  return samples;
}

/** The sample's value; 0 when the scrape does not have it (a counter not yet incremented). */
export function sample(samples: Samples, name: string, labels: Record<string, string> = {}): number {
  return samples.get(keyOf(name, labels)) ?? 0;
}

/** GETs a metrics endpoint and parses it; throws on anything but 200. */
export async function scrape(url: string, token?: string): Promise<Samples> {
  const response = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`${url} answered ${response.status}: ${text.slice(0, 300)}`);
  return parseMetrics(text);
}
