import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { App } from '../../src/index.js';
import { TestApps } from '../helpers/apps.js';
import { eventually } from '../helpers/eventually.js';
import { calls, Pricing, resetCalls, Shop } from './fixtures.js';

describe('call context', () => {
  const apps = new TestApps();
  let client: App;
  beforeEach(async () => {
    resetCalls();
    await apps.started({ services: [Shop, Pricing] });
    client = await apps.started();
  });
  afterEach(() => apps.stopAll());

  it('delivers call metadata to the handler, with lower-case keys', async () => {
    const reply = await client.client.call<{ metadata: Record<string, string> }>('shop', 'Shop.place', { item: 'tea', quantity: 1 }, { metadata: { 'X-Request-Id': 'r-1', Tenant: 'acme' } });
    expect(reply.metadata).toEqual({ 'x-request-id': 'r-1', tenant: 'acme' });
  });

  it('carries metadata and the remaining deadline on into calls the handler makes', async () => {
    const reply = await client.client.call<{ metadata: Record<string, string>; remaining: number }>('shop', 'Shop.quote', { item: 'tea' }, { metadata: { 'x-request-id': 'r-2' }, timeoutMs: 1500 });
    expect(reply.metadata).toEqual({ 'x-request-id': 'r-2', 'x-hop': 'shop' });
    // The nested call's own default (5 s) is capped by what the outer caller still waits.
    expect(reply.remaining).toBeLessThanOrEqual(1500);
  });

  it('carries metadata from a publish to the subscriber', async () => {
    await client.client.publish('shop.restocked', { item: 'tea', quantity: 5 }, { metadata: { 'X-Request-Id': 'r-3' } });
    await eventually(() => expect(calls.events).toHaveLength(1));
    expect(calls.events[0]!.metadata).toEqual({ 'x-request-id': 'r-3' });
  });

  it('a call with context: null starts afresh', async () => {
    const reply = await client.client.call<{ metadata: Record<string, string> }>('pricing', 'Pricing.price', { item: 'x' }, { context: null, metadata: { only: 'this' } });
    expect(reply.metadata).toEqual({ only: 'this' });
  });
});
