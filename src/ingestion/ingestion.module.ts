import { Module } from '@nestjs/common';
import { WorkspacesModule } from '../workspaces/workspaces.module';
import { IngestionController } from './ingestion.controller';
import { IngestionService } from './ingestion.service';

@Module({
  imports: [WorkspacesModule],
  controllers: [IngestionController],
  providers: [IngestionService],
})
export class IngestionModule {}
