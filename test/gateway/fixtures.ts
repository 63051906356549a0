import { IsNotEmpty, IsString } from 'class-validator';
import { Handler, Service, type CallContext } from '../../src/index.js';

export class HelloRequest {
  @IsString()
  @IsNotEmpty()
  name!: string;
}

/** A service for the gateway tests: conventional paths, a declared GET route with a path parameter, metadata echo. */
@Service({ name: 'greeter' })
export class Greeter {
  @Handler()
  async sayHello(request: HelloRequest): Promise<{ greeting: string }> {
    return { greeting: `Hello, ${request.name}` };
  }

  @Handler({ metadata: { method: 'GET', path: '/hello/:name' } })
  async hello(request: { name: string; polite?: string }): Promise<{ greeting: string }> {
    return { greeting: `${request.polite === 'yes' ? 'Good day' : 'Hi'}, ${request.name}` };
  }

  @Handler()
  async echoMetadata(_request: unknown, context: CallContext): Promise<Record<string, string>> {
    return { ...context.metadata };
  }

  @Handler()
  async nothing(): Promise<void> {}
}

/** A service whose name carries a namespace, as go-micro's `go.micro.api.*` services did. */
@Service({ name: 'api.orders' })
export class Orders {
  @Handler()
  async list(): Promise<{ orders: string[] }> {
    return { orders: ['o-1'] };
  }
}
