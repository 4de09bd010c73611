import { DynamicModule, Global, Module } from '@nestjs/common';
import { ConfigSliceClass } from './config-slice';

/**
 * Makes each validated configuration slice injectable under its class (a module injects its
 * own: `constructor(private readonly config: WebhooksConfig)`). Loaded once, before Nest starts.
 */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(slices: ReadonlyMap<ConfigSliceClass, object>): DynamicModule {
    const providers = [...slices].map(([slice, value]) => ({ provide: slice, useValue: value }));
    return { module: ConfigModule, providers, exports: providers.map((p) => p.provide) };
  }
}
