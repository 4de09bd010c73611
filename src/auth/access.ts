import { SetMetadata } from '@nestjs/common';
import type { PrincipalKind } from './principal';

/**
 * Every route declares who may call it; the global AuthGuard refuses one that does not
 * (deny by default). `@Allow(...)` names the kinds of token; `@Public()` marks the few
 * routes anyone may call (health, the dashboard's static pages, Stripe's signed webhook).
 */
export const ACCESS = 'gpumeter:access';
export type Access = PrincipalKind[] | 'public';

export const Allow = (...kinds: PrincipalKind[]) => SetMetadata(ACCESS, kinds satisfies Access);
export const Public = () => SetMetadata(ACCESS, 'public' satisfies Access);
