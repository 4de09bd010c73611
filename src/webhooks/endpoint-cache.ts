import { WebhookEndpoint } from './webhooks.repository';

/**
 * The endpoints as the dispatcher last read them, kept 5 s. A read that began before an
 * endpoint changed is not kept: it may still show the endpoint enabled (seen: a message
 * delivered to an endpoint a 410 had just disabled, while another attempt's read was in flight).
 */
export class EndpointCache {
  private cached?: { at: number; byId: Map<string, WebhookEndpoint> };
  /** Counts changes seen, so that a read begun before one is not cached after it. */
  private generation = 0;

  constructor(
    private readonly load: () => Promise<WebhookEndpoint[]>,
    private readonly now: () => number,
    private readonly ttlMs = 5_000,
  ) {}

  async byId(): Promise<Map<string, WebhookEndpoint>> {
    if (this.cached && this.now() - this.cached.at < this.ttlMs) return this.cached.byId;
    const generation = this.generation;
    const byId = new Map((await this.load()).map((e) => [e.id, e]));
    if (generation === this.generation) this.cached = { at: this.now(), byId };
    return byId;
  }

  /** An endpoint changed: the next read loads them again. */
  forget(): void {
    this.cached = undefined;
    this.generation++;
  }
}
