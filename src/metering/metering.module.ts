import { Module } from '@nestjs/common';
import { UsageStore } from './usage-store';
import { CatalogModule } from '../catalog/catalog.module';
import { WorkspacesModule } from '../workspaces/workspaces.module';
import { UsageConsumerService } from './usage-consumer.service';
import { UsageEventsRepository } from './usage-events.repository';
import { UsageRollupsRepository } from './usage-rollups.repository';
import { UsageRetirementsRepository } from './usage-retirements.repository';
import { UsageController } from './usage.controller';
import { UsageService } from './usage.service';

@Module({
  imports: [WorkspacesModule, CatalogModule],
  controllers: [UsageController],
  providers: [
    UsageEventsRepository,
    UsageRollupsRepository,
    UsageRetirementsRepository,
    UsageStore,
    UsageConsumerService,
    UsageService,
  ],
  exports: [UsageConsumerService, UsageEventsRepository, UsageRollupsRepository, UsageRetirementsRepository],
})
export class MeteringModule {}
