import { forwardRef, Module } from '@nestjs/common';
import { WorkspacesModule } from '../workspaces/workspaces.module';
import { CatalogController } from './catalog.controller';
import { CatalogRepository } from './catalog.repository';
import { CatalogService } from './catalog.service';

@Module({
  imports: [forwardRef(() => WorkspacesModule)],
  controllers: [CatalogController],
  providers: [CatalogRepository, CatalogService],
  exports: [CatalogService],
})
export class CatalogModule {}
