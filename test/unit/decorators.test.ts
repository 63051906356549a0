import { describe, expect, it } from '@jest/globals';
import { IsString } from 'class-validator';
import { Handler, Service, Subscriber } from '../../src/index.js';
import { readDefinition } from '../../src/decorators/readDefinition.js';

class Ping {
  @IsString()
  text!: string;
}

@Service({ name: 'pinger', version: '2.1.0', metadata: { team: 'edge' } })
class Pinger {
  @Handler()
  async ping(request: Ping): Promise<string> {
    return request.text;
  }

  @Handler({ name: 'Pinger.Echo', idempotent: true })
  async echo(request: unknown): Promise<unknown> {
    return request;
  }

  @Subscriber('pings', { queue: 'pingers', ack: 'manual' })
  async onPing(_event: Ping): Promise<void> {}
}

describe('decorators', () => {
  it('record the service, its endpoints and its subscribers without binding anything', () => {
    const definition = readDefinition(Pinger);
    expect(definition.options).toEqual({ name: 'pinger', version: '2.1.0', metadata: { team: 'edge' } });
    expect(definition.handlers.map((handler) => handler.endpoint)).toEqual(['Pinger.ping', 'Pinger.Echo']);
    expect(definition.handlers[0]!.parameterType).toBe(Ping);
    expect(definition.handlers[1]!.options.idempotent).toBe(true);
    expect(definition.subscribers).toEqual([{ method: 'onPing', topic: 'pings', options: { queue: 'pingers', ack: 'manual' }, parameterType: Ping }]);
  });

  it('default the version to latest', () => {
    @Service({ name: 'plain' })
    class Plain {}
    expect(readDefinition(Plain).options.version).toBe('latest');
  });

  it('let a subclass inherit endpoints and override one', () => {
    @Service({ name: 'child' })
    class Child extends Pinger {
      @Handler()
      override async ping(request: Ping): Promise<string> {
        return `child ${request.text}`;
      }
    }
    const endpoints = readDefinition(Child).handlers.map((handler) => handler.endpoint);
    expect(endpoints.sort()).toEqual(['Child.ping', 'Pinger.Echo'].sort());
  });

  it('reject a class with handlers but no @Service, naming it', () => {
    class Forgotten {
      @Handler()
      async work(): Promise<void> {}
    }
    expect(() => readDefinition(Forgotten)).toThrow('class Forgotten has @Handler/@Subscriber methods but no @Service decorator');
  });

  it('reject two endpoints with one name', () => {
    @Service({ name: 'twice' })
    class Twice {
      @Handler({ name: 'Same' })
      async a(): Promise<void> {}
      @Handler({ name: 'Same' })
      async b(): Promise<void> {}
    }
    expect(() => readDefinition(Twice)).toThrow('endpoint "Same" is declared twice');
  });

  it('reject an invalid service name or topic at decoration time', () => {
    expect(() => Service({ name: 'has space' })).toThrow(/not valid/);
    expect(() => Service({ name: '' })).toThrow(/not valid/);
    expect(() => Subscriber('')).toThrow(/topic/);
  });
});
