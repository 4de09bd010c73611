import { Provider } from '@nestjs/common';
import { BillingEventDefinitions } from './billing-event-types';

/** A module's billing event types, as a provider the billing events service finds at start-up. */
export class RegisteredBillingEvents {
  constructor(readonly definitions: BillingEventDefinitions) {}
}

/**
 * Registers a module's billing event types: `providers: [provideBillingEvents(WORKSPACE_EVENTS)]`.
 * BillingEventsService collects every such provider before anything is published or consumed.
 */
export function provideBillingEvents(definitions: BillingEventDefinitions): Provider {
  return {
    provide: Symbol(`billing events ${Object.keys(definitions.schemas).join(', ')}`),
    useValue: new RegisteredBillingEvents(definitions),
  };
}
