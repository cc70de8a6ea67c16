import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedEvent {
  headers: IncomingHttpHeaders;
  /** The body exactly as it came, which is what the signature covers. */
  body: string;
  receivedAt: number;
  /** What the receiver answered (unset while it has not). */
  status?: number;
}

export interface ReceivedBookingEvent {
  id: string;
  type: string;
  bookingId: string;
  timestamp: string;
  data: Record<string, unknown>;
}

/**
 * The booking platform's receiver of events, as a real HTTP server on loopback: it records every request, answers
 * what the test tells it to, and can go down and come back on the same port.
 */
export class EventReceiver {
  readonly received: ReceivedEvent[] = [];
  /** The status to answer a request with (after any wait it chooses). */
  answer: (request: ReceivedEvent) => number | Promise<number> = () => 204;
  private server: Server | null = null;
  private port = 0;

  static async start(): Promise<EventReceiver> {
    const receiver = new EventReceiver();
    await receiver.up();
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/maskline-events`;
  }

  /** The events the receiver took (answered 2xx), in arrival order. */
  accepted(): ReceivedBookingEvent[] {
    return this.received
      .filter((request) => request.status !== undefined && request.status >= 200 && request.status < 300)
      .map((request) => JSON.parse(request.body) as ReceivedBookingEvent);
  }

  async up(): Promise<void> {
    const server = createServer((request, response) => {
      void this.handle(request).then(
        (status) => response.writeHead(status).end(),
        () => response.writeHead(500).end(),
      );
    });
    server.listen(this.port, '127.0.0.1');
    await once(server, 'listening');
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Stops listening and drops every open connection: senders now get "connection refused". */
  async down(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(request: IncomingMessage): Promise<number> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const received: ReceivedEvent = {
      headers: request.headers,
      body: Buffer.concat(chunks).toString('utf8'),
      receivedAt: Date.now(),
    };
    this.received.push(received);
    received.status = await this.answer(received);
    return received.status;
  }
}
