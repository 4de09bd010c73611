import { Injectable, OnModuleInit } from '@nestjs/common';
import { BillingEvent, BillingEventProjection } from '../platform/billing-events/billing-event';
import { BillingEventsService } from '../platform/billing-events/billing-events.service';
import { WorkspacesRepository } from './workspaces.repository';

export interface WorkspaceCreatedData {
  id: string;
  name: string;
  email: string;
  api_key_hash: string;
  api_key_prefix: string;
}

export const WORKSPACE_CREATED = 'workspace.created';

/** Projects workspace.* billing events into the `workspaces` table. Idempotent. */
@Injectable()
export class WorkspaceProjection implements BillingEventProjection, OnModuleInit {
  readonly handles = [WORKSPACE_CREATED];

  constructor(
    private readonly workspaces: WorkspacesRepository,
    private readonly billingEvents: BillingEventsService,
  ) {}

  onModuleInit(): void {
    this.billingEvents.register(this);
  }

  async apply(event: BillingEvent): Promise<void> {
    const data = event.data as WorkspaceCreatedData;
    const at = Date.parse(event.time);
    // version = creation time: the same event applied twice writes the same row.
    await this.workspaces.upsert({ ...data, created_at_ms: at, version: at });
  }
}
