import { forwardRef, Module } from '@nestjs/common';
import { CatalogModule } from '../catalog/catalog.module';
import { AuthGuard } from './auth.guard';
import { WorkspaceProjection } from './workspace.projection';
import { MeController } from './me.controller';
import { WorkspacesController } from './workspaces.controller';
import { WorkspacesRepository } from './workspaces.repository';
import { WorkspacesService } from './workspaces.service';

@Module({
  imports: [forwardRef(() => CatalogModule)],
  controllers: [WorkspacesController, MeController],
  providers: [WorkspacesRepository, WorkspacesService, WorkspaceProjection, AuthGuard],
  exports: [WorkspacesRepository, AuthGuard],
})
export class WorkspacesModule {}
