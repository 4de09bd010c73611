import { registerDecorator, ValidationOptions } from 'class-validator';
import { BillingPeriod } from './billing-period';

/** A field holding a billing period, checked by the one parser (BillingPeriod.parse). */
export function IsBillingPeriod(options?: ValidationOptions) {
  return (object: object, propertyName: string) =>
    registerDecorator({
      name: 'isBillingPeriod',
      target: object.constructor,
      propertyName,
      options: { message: `${propertyName} must be ${BillingPeriod.RULE}`, ...options },
      validator: { validate: (value: unknown) => BillingPeriod.parse(value) !== undefined },
    });
}
