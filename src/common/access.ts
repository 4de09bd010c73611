import { SetMetadata } from '@nestjs/common';

/**
 * Every route declares who may call it; the global AuthGuard refuses one that does not
 * (deny by default). `@Allow(...)` names the kinds of token; `@Public()` marks the few
 * routes anyone may call (health, the dashboard's static pages, Stripe's signed webhook).
 */
/** The kinds of caller (src/auth turns a bearer token into one). */
export type PrincipalKind = 'operator' | 'workspace' | 'agent';

export const ACCESS = 'gpumeter:access';
export type Access = PrincipalKind[] | 'public';

export const Allow = (...kinds: PrincipalKind[]) => SetMetadata(ACCESS, kinds satisfies Access);
export const Public = () => SetMetadata(ACCESS, 'public' satisfies Access);
