import type { ValidationError } from 'class-validator';
import { MicroError, type FieldViolation } from '../errors.js';
import { classTransformer, classValidator } from './validationLibraries.js';

/** Turns class-validator's error tree into flat dotted paths: `address.street`, `items.0.name`. */
export function flattenViolations(errors: ValidationError[], parent = ''): FieldViolation[] {
  const out: FieldViolation[] = [];
  for (const error of errors) {
    const field = parent ? `${parent}.${error.property}` : error.property;
    if (error.constraints && Object.keys(error.constraints).length > 0) out.push({ field, constraints: { ...error.constraints } });
    if (error.children?.length) out.push(...flattenViolations(error.children, field));
  }
  return out;
}

/** "name: name must not be empty (isNotEmpty); age: age must not be less than 0 (min)". */
export function describeViolations(violations: FieldViolation[]): string {
  return violations
    .map((violation) => `${violation.field}: ${Object.entries(violation.constraints).map(([name, message]) => `${message} (${name})`).join(', ')}`)
    .join('; ');
}

function hasValidation(type: Function): boolean {
  return classValidator().getMetadataStorage().getTargetValidationMetadatas(type, '', true, false).length > 0;
}

export type PayloadPreparer = (payload: unknown) => Promise<object>;

/**
 * Builds the step that turns a decoded body into an instance of `type` and validates it. Runs before the
 * handler; a failure is a 400 listing every failing field, and the handler is not called.
 * `what` names the endpoint or topic in messages, e.g. `request to greeter Greeter.sayHello`.
 */
export function payloadPreparer(type: new () => object, errorId: string, what: string): PayloadPreparer {
  const validates = hasValidation(type);
  const { plainToInstance } = classTransformer();
  const { validate } = classValidator();
  return async (payload) => {
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
      const got = payload === null ? 'null' : Array.isArray(payload) ? 'an array' : payload === undefined ? 'an empty body' : `a ${typeof payload}`;
      throw MicroError.badRequest(errorId, `invalid ${what}: expected a JSON object (${type.name}), got ${got}`);
    }
    const instance = plainToInstance(type, payload);
    if (!validates) return instance;
    const errors = await validate(instance, { forbidUnknownValues: true, validationError: { target: false, value: false } });
    if (errors.length === 0) return instance;
    const violations = flattenViolations(errors);
    throw MicroError.badRequest(errorId, `invalid ${what}: ${describeViolations(violations)}`, violations);
  };
}
