import { Module } from '@nestjs/common';
import { provideBillingEvents } from '../platform/billing-events/provide-billing-events';
import { WORKSPACE_EVENTS } from './workspace-events';
import { CatalogModule } from '../catalog/catalog.module';
import { WorkspaceProjection } from './workspace.projection';
import { MeController } from './me.controller';
import { WorkspaceKeysController } from './workspace-keys.controller';
import { WorkspacesController } from './workspaces.controller';
import { WorkspacesRepository } from './workspaces.repository';
import { WorkspacesService } from './workspaces.service';

@Module({
  imports: [CatalogModule],
  controllers: [WorkspacesController, WorkspaceKeysController, MeController],
  providers: [
    WorkspacesRepository,
    WorkspacesService,
    WorkspaceProjection,
    provideBillingEvents(WORKSPACE_EVENTS),
  ],
  exports: [WorkspacesRepository],
})
export class WorkspacesModule {}
