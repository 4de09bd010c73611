import { createServer, IncomingMessage, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface Delivery {
  path: string;
  id: string;
  timestamp: string;
  signature: string;
  body: string;
  json: { type: string; id: string; created_at: string; data: Record<string, unknown> };
  status: number;
  receivedAtMs: number;
}

/**
 * A real local HTTP receiver for webhooks. Every delivery is verified with the
 * `standardwebhooks` library against the secrets set for its path (all of them must verify
 * on their own); `answers` sets what each path replies, one status per delivery, then 204.
 */
export class WebhookReceiver {
  private server?: Server;
  port = 0;
  readonly deliveries: Delivery[] = [];
  readonly secrets = new Map<string, string[]>();
  readonly answers = new Map<string, number[]>();
  /** Milliseconds a path waits before answering. */
  readonly delays = new Map<string, number>();
  readonly verificationFailures: string[] = [];

  async start(port = 0): Promise<this> {
    this.server = createServer((req, res) => {
      void read(req).then((body) => {
        const path = req.url ?? '/';
        const headers = {
          'webhook-id': String(req.headers['webhook-id'] ?? ''),
          'webhook-timestamp': String(req.headers['webhook-timestamp'] ?? ''),
          'webhook-signature': String(req.headers['webhook-signature'] ?? ''),
        };
        for (const secret of this.secrets.get(path) ?? []) {
          // Verify against each secret alone: during a rotation both must verify.
          const signatures = headers['webhook-signature'].split(' ');
          const ok = signatures.some((sig) => {
            try {
              new Webhook(secret).verify(body, { ...headers, 'webhook-signature': sig });
              return true;
            } catch {
              return false;
            }
          });
          if (!ok) this.verificationFailures.push(`${path} ${headers['webhook-id']}`);
        }
        const status = this.answers.get(path)?.shift() ?? 204;
        let json: Delivery['json'];
        try {
          json = JSON.parse(body) as Delivery['json'];
        } catch {
          json = { type: '', id: '', created_at: '', data: {} };
        }
        this.deliveries.push({
          path,
          id: headers['webhook-id'],
          timestamp: headers['webhook-timestamp'],
          signature: headers['webhook-signature'],
          body,
          json,
          status,
          receivedAtMs: Date.now(),
        });
        setTimeout(
          () => {
            res.writeHead(status);
            res.end();
          },
          this.delays.get(path) ?? 0,
        );
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  at(path: string): Delivery[] {
    return this.deliveries.filter((d) => d.path === path);
  }

  async waitFor(what: string, check: () => boolean, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`webhook receiver: ${what} not within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server?.closeAllConnections();
    this.server = undefined;
  }
}

function read(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}
