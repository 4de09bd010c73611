import { Clock } from '../platform/clock';
import {
  CatalogResponse,
  CostChangeResponse,
  PlanChangeResponse,
  PriceChangeResponse,
} from './dto/catalog.response';
import { Body, Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { parseRfc3339Ms } from '../common/rfc3339';
import { ApiError } from '../common/api-error';
import { Allow } from '../common/access';
import { CatalogService } from './catalog.service';
import { CostChangeDto, PlanChangeDto, PriceChangeDto } from './dto/price-change.dto';

@ApiTags('catalog')
@ApiBearerAuth()
@Controller('v1/catalog')
export class CatalogController {
  constructor(
    private readonly catalog: CatalogService,
    private readonly clock: Clock,
  ) {}

  /** Prices and plans in force at `at` (default: now). */
  @ApiOkResponse({ type: CatalogResponse })
  @Get()
  @Allow('operator', 'workspace')
  get(@Query('at') at?: string) {
    const ms = at === undefined ? this.clock.now() : parseRfc3339Ms(at);
    if (ms === null) throw ApiError.invalid('at', 'at must be an RFC 3339 date-time');
    return this.catalog.view(ms);
  }

  @ApiCreatedResponse({ type: PriceChangeResponse })
  @Post('price-changes')
  @HttpCode(201)
  @Allow('operator')
  changePrices(@Body() dto: PriceChangeDto) {
    return this.catalog.changePrices(dto);
  }

  /** What the GPUs cost a provider from an instant on (margin reports; src/reports). */
  @ApiCreatedResponse({ type: CostChangeResponse })
  @Post('cost-changes')
  @HttpCode(201)
  @Allow('operator')
  changeCosts(@Body() dto: CostChangeDto) {
    return this.catalog.changeCosts(dto);
  }

  @ApiCreatedResponse({ type: PlanChangeResponse })
  @Post('plan-changes')
  @HttpCode(201)
  @Allow('operator')
  changePlan(@Body() dto: PlanChangeDto) {
    return this.catalog.changePlan(dto);
  }
}
