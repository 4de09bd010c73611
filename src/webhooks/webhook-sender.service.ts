import { Injectable } from '@nestjs/common';
import { Webhook } from 'standardwebhooks';
import { Pending } from './delivery-queue';
import { AttemptResult, postWebhook } from './outbound-delivery';
import { WebhookEndpointsService } from './webhook-endpoints.service';
import { WebhookEndpoint } from './webhooks.repository';

/**
 * One attempt on the wire: the message signed (Standard Webhooks) and POSTed to its endpoint
 * under the outbound policy (outbound-delivery.ts: allowed addresses, 15 s timeout).
 */
@Injectable()
export class WebhookSender {
  constructor(private readonly endpoints: WebhookEndpointsService) {}

  send(endpoint: WebhookEndpoint, p: Pending, at: Date): Promise<AttemptResult> {
    return postWebhook(endpoint.url, this.headers(endpoint, p, at), p.body, this.endpoints.policy);
  }

  /** Standard Webhooks headers; during a rotation's overlap both secrets sign (two signatures). */
  private headers(endpoint: WebhookEndpoint, p: Pending, at: Date): Record<string, string> {
    const secrets = [endpoint.secret];
    if (endpoint.previous_secret && endpoint.previous_valid_until_ms > at.getTime())
      secrets.push(endpoint.previous_secret);
    const signatures = secrets.map((s) => new Webhook(this.endpoints.box.open(s)).sign(p.id, at, p.body));
    return {
      'webhook-id': p.id,
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': signatures.join(' '),
      'user-agent': 'gpumeter-webhooks/1',
    };
  }
}
