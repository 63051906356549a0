import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { ContainerModule } from 'inversify';
import { MicroError, Tokens, type CallWrapper, type HandlerWrapper, type WrappedEndpoint } from '../../src/index.js';
import { TestApps } from '../helpers/apps.js';
import { eventually } from '../helpers/eventually.js';
import { calls, resetCalls, Shop } from './fixtures.js';

describe('handler and call wrappers', () => {
  const apps = new TestApps();
  beforeEach(resetCalls);
  afterEach(() => apps.stopAll());

  it('wrap every handler and subscriber, outermost first, and see replies, errors and the endpoint', async () => {
    const seen: string[] = [];
    const recorder =
      (name: string): HandlerWrapper =>
      (next, endpoint: WrappedEndpoint) =>
      async (payload, context) => {
        seen.push(`${name}>${endpoint.kind}:${endpoint.endpoint}`);
        try {
          return await next(payload, context);
        } catch (error) {
          seen.push(`${name}!${(error as Error).message}`);
          throw error;
        } finally {
          seen.push(`${name}<`);
        }
      };
    const wrappers = new ContainerModule(({ bind }) => {
      bind(Tokens.HandlerWrapper).toConstantValue(recorder('outer'));
      bind(Tokens.HandlerWrapper).toConstantValue(recorder('inner'));
    });
    await apps.started({ services: [Shop], modules: [wrappers] });
    const client = await apps.started();
    await client.client.call('shop', 'Shop.place', { item: 'tea', quantity: 1 });
    expect(seen).toEqual(['outer>rpc:Shop.place', 'inner>rpc:Shop.place', 'inner<', 'outer<']);
    seen.length = 0;
    await expect(client.client.call('shop', 'Shop.fail', {})).rejects.toMatchObject({ code: 500 });
    expect(seen).toEqual(['outer>rpc:Shop.fail', 'inner>rpc:Shop.fail', 'inner!stock database is down', 'inner<', 'outer!stock database is down', 'outer<']);
    seen.length = 0;
    await client.client.publish('shop.restocked', { item: 'tea', quantity: 1 });
    await eventually(() => expect(calls.events).toHaveLength(1));
    expect(seen).toEqual(['outer>event:shop.restocked', 'inner>event:shop.restocked', 'inner<', 'outer<']);
  });

  it('a call wrapper adds metadata the handler receives, and sees the reply and the error', async () => {
    const outcomes: string[] = [];
    const tracing: CallWrapper = (next) => async (call) => {
      try {
        const reply = await next({ ...call, metadata: { ...call.metadata, 'x-trace': `trace-${call.endpoint}` } });
        outcomes.push(`ok ${call.service} ${call.endpoint}`);
        return reply;
      } catch (error) {
        outcomes.push(`failed ${MicroError.is(error) ? error.code : '?'}`);
        throw error;
      }
    };
    await apps.started({ services: [Shop] });
    const client = await apps.started({ modules: [new ContainerModule(({ bind }) => void bind(Tokens.CallWrapper).toConstantValue(tracing))] });
    const reply = await client.client.call<{ metadata: Record<string, string> }>('shop', 'Shop.place', { item: 'tea', quantity: 1 }, { metadata: { own: 'yes' } });
    expect(reply.metadata).toEqual({ own: 'yes', 'x-trace': 'trace-Shop.place' });
    await expect(client.client.call('shop', 'Shop.conflict', {})).rejects.toMatchObject({ code: 409 });
    expect(outcomes).toEqual(['ok shop Shop.place', 'failed 409']);
  });
});
