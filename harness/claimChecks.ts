import assert from 'node:assert/strict';

/** The conflict-free rule, read from the store's claims: no person holds one virtual number twice. */
export function assertNoNumberHeldTwice(claims: readonly { party: string; virtualNumber: string }[]): void {
  const seen = new Set<string>();
  for (const claim of claims) {
    const key = `${claim.party}|${claim.virtualNumber}`;
    assert.ok(!seen.has(key), `${key} held twice`);
    seen.add(key);
  }
}
