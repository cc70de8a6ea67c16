import type { NumberReport, NumberSyncPlan, ReportedNumber } from '../domain/numberSync';
import { countryOfNumber } from '../domain/phoneNumbers';
import type { EightByEightApiClient, NumberListing } from '../eightbyeight/apiClient';
import type { VirtualNumberUpdateEvent } from '../eightbyeight/webhookParsing';
import type { NumberPool, NumberSyncResult } from '../store/numberPool';

export type { NumberSyncResult };

/** A sync from the numbers API, and why numbers 8x8 did not list were left alone, when it could not be whole. */
export interface AccountSyncResult extends NumberSyncResult {
  /** Null when the listing was complete (then a pool number it left out was drained). */
  partial: string | null;
}

/** A VNU webhook about another subaccount than ours: applying its snapshot would drain our whole pool. */
export class ForeignSubaccount extends Error {
  override name = 'ForeignSubaccount';
}

/**
 * The number sync from both of 8x8's sources: the numbers API (`numbers sync`, the hourly schedule) and the
 * VIRTUAL_NUMBER_UPDATE webhook. Both go through the same rules (domain/numberSync) and the same store method.
 */
export class NumberSync {
  constructor(
    private readonly pool: Pick<NumberPool, 'applyNumberReport' | 'planNumberReport'>,
    private readonly options: { client?: EightByEightApiClient | null; subAccountId?: string | null } = {},
  ) {}

  /** Reads the subaccount's numbers from 8x8 and applies them. */
  async syncFromAccount(): Promise<AccountSyncResult> {
    const listing = await this.client().listNumbers();
    return { ...(await this.pool.applyNumberReport(reportOfListing(listing))), partial: partialListing(listing) };
  }

  /** What syncFromAccount would change now, changing nothing. */
  async planFromAccount(): Promise<NumberSyncPlan & { partial: string | null }> {
    const listing = await this.client().listNumbers();
    return { ...(await this.pool.planNumberReport(reportOfListing(listing))), partial: partialListing(listing) };
  }

  private client(): EightByEightApiClient {
    const { client } = this.options;
    if (!client) throw new Error('8x8 is not configured: set EIGHTX8_API_KEY and EIGHTX8_SUBACCOUNT_ID');
    return client;
  }

  /** A SNAPSHOT drains the numbers it does not list; UPDATES only touches the ones it lists. */
  async applyVirtualNumberUpdate(event: VirtualNumberUpdateEvent): Promise<NumberSyncResult> {
    const ours = this.options.subAccountId ?? this.options.client?.account.subAccountId ?? null;
    if (ours !== null && event.subAccountId !== undefined && event.subAccountId !== ours) {
      throw new ForeignSubaccount(`update for subaccount ${event.subAccountId}, not ${ours}`);
    }
    return this.pool.applyNumberReport(reportOfUpdate(event));
  }
}

export function reportOfListing(listing: NumberListing): NumberReport {
  return {
    numbers: listing.numbers.map((n): ReportedNumber => ({
      number: n.msisdn,
      operationalStatus: n.operationalStatus,
      isHealthy: n.health?.isHealthy ?? null,
      countryCode: n.countryCode ?? countryOfNumber(n.msisdn),
      referenceId: n.referenceId,
    })),
    // 8x8 documents no paging; should a listing ever come short of its total, or give none, absent numbers are
    // not known to be gone.
    complete: listing.totalNumbers !== null && listing.numbers.length >= listing.totalNumbers,
  };
}

/** Why a listing is not known to be complete, in an operator's words; null when it is. */
export function partialListing(listing: NumberListing): string | null {
  const why =
    listing.totalNumbers === null
      ? '8x8 gave no total'
      : listing.numbers.length < listing.totalNumbers
        ? `8x8 listed ${listing.numbers.length} of ${listing.totalNumbers} numbers`
        : null;
  return why && `${why}, so numbers it did not list keep their status`;
}

export function reportOfUpdate(event: VirtualNumberUpdateEvent): NumberReport {
  const listed = event.virtualNumbers.length;
  return {
    numbers: event.virtualNumbers.map((n): ReportedNumber => ({
      number: n.msisdn,
      operationalStatus: n.operationalStatus,
      isHealthy: null,
      countryCode: n.countryCode?.toUpperCase() ?? countryOfNumber(n.msisdn),
      referenceId: n.referenceId ?? null,
    })),
    // Without its total a snapshot cannot be known whole (8x8 documents `totalNumbers` on every VNU payload): a
    // number it leaves out may only have been left out, and draining is for good.
    complete: event.updateEventType === 'SNAPSHOT' && event.totalNumbers !== undefined && listed >= event.totalNumbers,
  };
}

/**
 * `added 2, changed 1 (1 disabled), draining 1, unchanged 5`: one line for logs and the command line, and why
 * nothing was drained when the listing could not be known complete.
 */
export function describeSyncResult(result: NumberSyncResult & { partial?: string | null }): string {
  const to = (status: string) => result.changed.filter((c) => c.to === status).length;
  const statusChanges = result.changed.length - to('draining');
  const detail = [to('disabled') && `${to('disabled')} disabled`, to('active') && `${to('active')} active again`]
    .filter(Boolean)
    .join(', ');
  const line = [
    `added ${result.added.length}`,
    `changed ${statusChanges}${detail ? ` (${detail})` : ''}`,
    `draining ${to('draining')}`,
    `unchanged ${result.unchanged}`,
    ...(result.notAdded.length > 0 ? [`not added ${result.notAdded.length}`] : []),
    ...(result.skipped.length > 0 ? [`skipped ${result.skipped.length}`] : []),
  ].join(', ');
  return result.partial ? `${line}; ${result.partial}` : line;
}
