import { Global, Module } from '@nestjs/common';
import { AuthConfig } from './auth.config';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
import { AgentTokensController } from './agent-tokens.controller';
import { AgentTokensService } from './agent-tokens.service';
import { AuthGuard } from './auth.guard';
import { provideBillingEvents } from '../platform/billing-events/provide-billing-events';
import { CREDENTIAL_EVENTS } from './credential-events';
import { CredentialStore } from './credential-store.service';
import { CredentialProjection } from './credential.projection';
import { CredentialsRepository } from './credentials.repository';
import { AuthFailureLimiter, CredentialRateLimitGuard } from './rate-limits';

/**
 * Who may call what (README.md): the credentials in memory, the global guards (access first,
 * then the per-credential rate limit), agent tokens. Global, so that no bounded context
 * imports another one only to guard its routes.
 */
@Global()
@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      inject: [AuthConfig],
      useFactory: (config: AuthConfig) => ({
        throttlers: [{ name: 'default', ttl: 1000, limit: config.RATE_LIMIT_PER_CREDENTIAL_PER_SECOND }],
      }),
    }),
  ],
  controllers: [AgentTokensController],
  providers: [
    CredentialsRepository,
    CredentialStore,
    CredentialProjection,
    provideBillingEvents(CREDENTIAL_EVENTS),
    AgentTokensService,
    AuthFailureLimiter,
    { provide: APP_GUARD, useClass: AuthGuard },
    { provide: APP_GUARD, useClass: CredentialRateLimitGuard },
  ],
  exports: [CredentialStore, CredentialsRepository, AuthFailureLimiter],
})
export class AuthModule {}
