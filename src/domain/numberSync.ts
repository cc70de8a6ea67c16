import type { E164 } from './phoneNumbers';

/**
 * Number sync: keeping the pool in step with what 8x8 says about the subaccount's virtual numbers (VNs).
 *
 * - a new number that 8x8 reports `Active` and healthy joins the pool, allocatable;
 * - an `Expiring`, `Inactive` or `Unhealthy` number, or one whose health check failed, is `disabled`: no new
 *   bookings, while the bookings that hold it keep it (8x8 still routes its calls);
 * - a disabled number that is `Active` and healthy again is allocatable again;
 * - a number 8x8 no longer lists is `draining`, and draining is for good: neither this sync nor 8x8 undoes an
 *   operator's drain;
 * - what 8x8 leaves unsaid (no status, no health check) changes nothing.
 */

/** The pool's status of a number; the same values the store keeps. */
export type PoolNumberStatus = 'active' | 'disabled' | 'draining';

/** One number as 8x8 reported it, reduced to what the rules read. */
export interface ReportedNumber {
  number: E164;
  /** `Active`, `Expiring`, `Inactive`, `Unhealthy`; null when 8x8 did not say. */
  operationalStatus: string | null;
  /** 8x8's last health check; null when there was none. */
  isHealthy: boolean | null;
  countryCode: string | null;
  referenceId: string | null;
}

export interface NumberReport {
  numbers: ReportedNumber[];
  /**
   * True when the report lists every number of the subaccount (a full listing, a VNU `SNAPSHOT`): a pool
   * number missing from it is gone from 8x8. False for VNU `UPDATES` or a listing shorter than its total.
   */
  complete: boolean;
}

export interface StatusChange {
  number: E164;
  from: PoolNumberStatus;
  to: PoolNumberStatus;
  /** In 8x8's words where it gave any: `Expiring`, `health check failed`, `Active again`, `gone from 8x8`. */
  reason: string;
}

export interface NumberSyncPlan {
  additions: ReportedNumber[];
  changes: StatusChange[];
  /** Reported numbers the pool does not have and does not take: they are not Active and healthy. */
  notAdded: { number: E164; reason: string }[];
  /** Pool numbers the report speaks of (listed, or all of them when it is complete) that keep their status. */
  unchanged: number;
}

type Verdict = { usable: true } | { usable: false; reason: string } | { usable: null };

/** Whether 8x8 says the number may carry new bookings; `usable: null` when it did not say. */
export function verdictOf(reported: ReportedNumber): Verdict {
  const status = reported.operationalStatus?.trim();
  if (!status) return { usable: null };
  if (status.toLowerCase() !== 'active') return { usable: false, reason: status };
  if (reported.isHealthy === false) return { usable: false, reason: 'health check failed' };
  return { usable: true };
}

/** The status a pool number should have now; `reported` is undefined when the report does not list it. */
export function nextStatus(
  current: PoolNumberStatus,
  reported: ReportedNumber | undefined,
  complete: boolean,
): { to: PoolNumberStatus; reason: string } | null {
  if (current === 'draining') return null;
  if (reported === undefined) return complete ? { to: 'draining', reason: 'gone from 8x8' } : null;
  const verdict = verdictOf(reported);
  if (verdict.usable === false && current === 'active') return { to: 'disabled', reason: verdict.reason };
  if (verdict.usable === true && current === 'disabled') return { to: 'active', reason: 'Active again' };
  return null;
}

/** What has to change in the pool for it to match the report. Pure: the store applies it. */
export function planNumberSync(
  pool: readonly { number: E164; status: PoolNumberStatus }[],
  report: NumberReport,
): NumberSyncPlan {
  // A number listed twice counts as its last entry.
  const reported = new Map(report.numbers.map((entry) => [entry.number, entry]));
  const inPool = new Set(pool.map((entry) => entry.number));
  const plan: NumberSyncPlan = { additions: [], changes: [], notAdded: [], unchanged: 0 };

  for (const { number, status } of pool) {
    const entry = reported.get(number);
    const next = nextStatus(status, entry, report.complete);
    if (next) plan.changes.push({ number, from: status, ...next });
    else if (entry !== undefined || report.complete) plan.unchanged += 1;
  }
  for (const entry of reported.values()) {
    if (inPool.has(entry.number)) continue;
    const verdict = verdictOf(entry);
    if (verdict.usable === true) plan.additions.push(entry);
    else plan.notAdded.push({ number: entry.number, reason: verdict.usable === false ? verdict.reason : 'no status' });
  }
  return plan;
}
