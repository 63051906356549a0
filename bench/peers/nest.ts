import 'reflect-metadata';
import type * as NestCommon from '@nestjs/common';
import type * as NestCore from '@nestjs/core';
import type * as NestMicroservices from '@nestjs/microservices';
import type * as Rxjs from 'rxjs';
import type * as ClassValidator from 'class-validator';
import type { BenchClient, BenchServer, Payload, ScenarioEnv } from '../harness/protocol.js';
import { loadPeer } from './loadPeer.js';

const common = await loadPeer<typeof NestCommon>('@nestjs/common');
const { NestFactory } = await loadPeer<typeof NestCore>('@nestjs/core');
const ms = await loadPeer<typeof NestMicroservices>('@nestjs/microservices');
const { lastValueFrom } = await loadPeer<typeof Rxjs>('rxjs');
const validator = await loadPeer<typeof ClassValidator>('class-validator');

/**
 * NestJS 12 microservices on each row, on their defaults except for addresses: the TCP, NATS and Redis
 * transports. NestJS has no registry (clients are given the server's address) and no in-process transport.
 * Validation is a ValidationPipe with a class-validator DTO, as NestJS documents it.
 */
const pattern = (env: ScenarioEnv): string => `bench.hello.${env.namespace}`;
const topic = (env: ScenarioEnv): string => `bench.event.${env.namespace}`;

class HelloRequest {
  @validator.IsString() @validator.IsNotEmpty() name!: string;
  @validator.IsInt() @validator.Min(0) n!: number;
}

function transportOptions(env: ScenarioEnv): NestMicroservices.ClientOptions {
  switch (env.variant) {
    case 'tcp':
      return { transport: ms.Transport.TCP, options: { host: '127.0.0.1', port: env.serverPort } };
    case 'nats':
      return { transport: ms.Transport.NATS, options: { servers: [env.natsUrl] } };
    case 'redis': {
      const url = new URL(env.redisUrl);
      return { transport: ms.Transport.REDIS, options: { host: url.hostname, port: Number(url.port || 6379) } };
    }
    case 'memory':
      throw new Error('NestJS has no in-process transport');
  }
}

function benchModule(env: ScenarioEnv, counter: { events: number }): new () => object {
  @common.Controller()
  class BenchController {
    @ms.MessagePattern(pattern(env))
    hello(@ms.Payload() request: Payload) {
      return { greeting: `Hello, ${request.name}`, n: request.n };
    }

    @ms.EventPattern(topic(env))
    event(@ms.Payload() _event: unknown) {
      counter.events++;
    }
  }

  @common.Controller()
  class ValidatedBenchController {
    @ms.MessagePattern(pattern(env))
    hello(@ms.Payload(new common.ValidationPipe()) request: HelloRequest) {
      return { greeting: `Hello, ${request.name}`, n: request.n };
    }

    @ms.EventPattern(topic(env))
    event(@ms.Payload() _event: unknown) {
      counter.events++;
    }
  }

  @common.Module({ controllers: [env.validate ? ValidatedBenchController : BenchController] })
  class BenchModule {}
  return BenchModule;
}

export async function startServer(env: ScenarioEnv): Promise<BenchServer> {
  const counter = { events: 0 };
  const options = { ...transportOptions(env), logger: false } as unknown as NestMicroservices.MicroserviceOptions;
  const app = await NestFactory.createMicroservice<NestMicroservices.MicroserviceOptions>(benchModule(env, counter), options);
  await app.listen();
  return { eventsReceived: () => counter.events, close: () => app.close() };
}

export async function startClient(env: ScenarioEnv): Promise<BenchClient> {
  const client = ms.ClientProxyFactory.create(transportOptions(env));
  await client.connect();
  const helloPattern = pattern(env);
  const eventTopic = topic(env);
  return {
    call: (request) => lastValueFrom(client.send(helloPattern, request)),
    emit: (event) => lastValueFrom(client.emit(eventTopic, event), { defaultValue: undefined }),
    close: async () => client.close(),
  };
}
