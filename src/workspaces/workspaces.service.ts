import { Injectable } from '@nestjs/common';
import { newBillingEvent } from '../platform/billing-events/billing-event';
import { BillingEventsService } from '../platform/billing-events/billing-events.service';
import { ApiError, ApiErrorCode } from '../platform/errors/api-error';
import { apiKeyPrefix, hashApiKey, newWorkspaceApiKey } from './api-keys';
import { CreateWorkspaceDto } from './dto/create-workspace.dto';
import { WORKSPACE_CREATED, WorkspaceCreatedData } from './workspace.projection';
import { WorkspaceRow, WorkspacesRepository } from './workspaces.repository';

export interface WorkspaceView {
  id: string;
  name: string;
  email: string;
  api_key_prefix: string;
  created_at: string;
}

export const toView = (w: WorkspaceRow): WorkspaceView => ({
  id: w.id,
  name: w.name,
  email: w.email,
  api_key_prefix: w.api_key_prefix,
  created_at: new Date(w.created_at_ms).toISOString(),
});

@Injectable()
export class WorkspacesService {
  // One creation at a time per process: the exists-check and the publish must not interleave.
  private creating: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly workspaces: WorkspacesRepository,
    private readonly billingEvents: BillingEventsService,
  ) {}

  /** Publishes workspace.created and returns the workspace with its API key (the only time it is shown). */
  async create(dto: CreateWorkspaceDto): Promise<WorkspaceView & { api_key: string }> {
    const run = this.creating.then(async () => {
      if (await this.workspaces.findById(dto.id)) {
        throw new ApiError(ApiErrorCode.Conflict, `workspace ${dto.id} already exists`, [
          { field: 'id', message: 'already exists' },
        ]);
      }
      const apiKey = newWorkspaceApiKey();
      const data: WorkspaceCreatedData = {
        id: dto.id,
        name: dto.name,
        email: dto.email,
        api_key_hash: hashApiKey(apiKey),
        api_key_prefix: apiKeyPrefix(apiKey),
      };
      const event = newBillingEvent(WORKSPACE_CREATED, dto.id, data);
      await this.billingEvents.publish(event);
      const created = Date.parse(event.time);
      return { ...toView({ ...data, created_at_ms: created, version: created }), api_key: apiKey };
    });
    this.creating = run.catch(() => undefined);
    return run;
  }

  async get(id: string): Promise<WorkspaceView> {
    const w = await this.workspaces.findById(id);
    if (!w) throw new ApiError(ApiErrorCode.NotFound, 'workspace not found');
    return toView(w);
  }
}
