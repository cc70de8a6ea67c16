/**
 * Every refusal of the booking service, by the stable code the platform acts on: the HTTP status it is answered
 * with, whether the same request may succeed later (then 503 with Retry-After), and what it means. The workflow's
 * failure types (contract.ts), BookingError, the HTTP answers and the OpenAPI document all read this one list.
 * Plain data with no imports: the workflow sandbox bundles it through the contract.
 */
export const BOOKING_ERRORS = {
  booking_conflict: { status: 409, retry: false, description: 'the bookingId exists with other parties' },
  no_number_available: {
    status: 409,
    retry: false,
    description:
      'no virtual number of the pool is free for both parties (each may hold a number in one live booking only)',
  },
  booking_closed: { status: 409, retry: false, description: 'the booking has already ended' },
  booking_live: {
    status: 409,
    retry: false,
    description: 'the booking is live (active or completing, or still holding its number)',
  },
  booking_not_found: { status: 404, retry: false, description: 'there is no booking with this id' },
  allocation_failed: {
    status: 503,
    retry: true,
    description: 'allocation gave up (after two minutes of retries); the bookingId may be tried again',
  },
  temporal_unavailable: { status: 503, retry: true, description: 'the booking service cannot reach Temporal' },
} as const satisfies Record<string, { status: number; retry: boolean; description: string }>;

export type BookingErrorCode = keyof typeof BOOKING_ERRORS;

export function isBookingErrorCode(code: unknown): code is BookingErrorCode {
  return typeof code === 'string' && Object.hasOwn(BOOKING_ERRORS, code);
}

/** A refusal the booking platform can act on, with a stable code. */
export class BookingError extends Error {
  override name = 'BookingError';
  constructor(
    readonly code: BookingErrorCode,
    message: string,
  ) {
    super(message);
  }
}
