import { injectable } from '#inversify';
import { SERVICE_KEY, type ServiceOptions } from './metadata.js';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * Marks a class as a service. It only records metadata (and makes the class injectable); the app decides
 * what to bind and start.
 *
 * @example
 *   @Service({ name: 'greeter', version: '1.0.0' })
 *   class Greeter { @Handler() async sayHello(req: HelloRequest) { ... } }
 */
export function Service(options: ServiceOptions): ClassDecorator {
  if (typeof options?.name !== 'string' || !NAME.test(options.name)) {
    throw new TypeError(`@Service: name ${JSON.stringify(options?.name)} is not valid; use letters, digits, '.', '_' and '-', starting with a letter or digit`);
  }
  return (target) => {
    Reflect.defineMetadata(SERVICE_KEY, Object.freeze({ ...options }), target);
    injectable()(target);
  };
}
