import { createRequire } from 'node:module';

/**
 * class-validator (with validator.js and libphonenumber-js) and class-transformer are loaded on first use, not when
 * tsmicro is imported: a service without payload classes never needs them, and loading them was about a third of
 * the time from process start to registered (≈130 ms) and ≈20 MiB of an idle service's memory. Both packages are
 * CommonJS, so they load synchronously; a DTO module that imports them itself gets the same copy.
 */
const require = createRequire(import.meta.url);

let validator: typeof import('class-validator') | undefined;
let transformer: typeof import('class-transformer') | undefined;

export function classValidator(): typeof import('class-validator') {
  validator ??= require('class-validator') as typeof import('class-validator');
  return validator;
}

export function classTransformer(): typeof import('class-transformer') {
  transformer ??= require('class-transformer') as typeof import('class-transformer');
  return transformer;
}
