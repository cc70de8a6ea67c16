/** Where booking events may go, and how a deployment addresses and signs them (read by src/config.ts). */

export interface EventsConfig {
  /** The platform's receiver of booking events (MASKLINE_EVENTS_URL); a booking's callbackUrl overrides it. */
  url: string | null;
  /** Standard Webhooks secrets (`whsec_…`), newest first; every one signs, so a receiver may hold either. */
  secrets: string[];
  /** True when MASKLINE_EVENTS_SECRETS is unset in development mode and the public development secret signs. */
  developmentSecret: boolean;
  /** Whether events carry the parties' numbers beside their roles (MASKLINE_EVENTS_INCLUDE_NUMBERS). */
  includeNumbers: boolean;
  /** Plain http to any host (development mode); otherwise https, or http to loopback only. */
  allowPlainHttp: boolean;
  /**
   * MASKLINE_PLATFORM_HOSTS: the hosts a URL of the platform's (callbackUrl, `ask`) may name; empty: any. A
   * booking's URLs are checked against it at creation, so one booking cannot have Maskline post anywhere.
   */
  platformHosts?: string[];
}

/** Signs events in development mode when no secret is set; published here, so never a production secret. */
export const DEVELOPMENT_EVENTS_SECRET = `whsec_${Buffer.from('maskline-development-events-secret').toString('base64')}`;

/**
 * Where events may be posted: https, or plain http to this machine (a receiver under test, `maskline events
 * listen`) or, in development mode, anywhere.
 */
export function isEventsUrl(value: string, allowPlainHttp: boolean, platformHosts: readonly string[] = []): boolean {
  try {
    const url = new URL(value);
    if (url.username || url.password) return false;
    if (platformHosts.length > 0 && !platformHosts.includes(url.hostname.toLowerCase())) return false;
    const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
    return url.protocol === 'https:' || (url.protocol === 'http:' && (loopback || allowPlainHttp));
  } catch {
    return false;
  }
}
