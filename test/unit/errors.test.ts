import { describe, expect, it } from '@jest/globals';
import { MicroError, parseWireError, toMicroError } from '../../src/index.js';

describe('MicroError', () => {
  it('has the wire shape { id, code, detail, status }', () => {
    const error = MicroError.notFound('greeter', 'no such thing');
    expect(error.toJSON()).toEqual({ id: 'greeter', code: 404, detail: 'no such thing', status: 'Not Found' });
    expect(error.message).toBe('no such thing');
    expect(MicroError.is(error)).toBe(true);
    expect(MicroError.is(new Error('x'))).toBe(false);
  });

  it('survives the wire, violations included', () => {
    const error = MicroError.badRequest('greeter', 'invalid', [{ field: 'name', constraints: { isNotEmpty: 'name should not be empty' } }]);
    const parsed = parseWireError(error.toWire(), 'fallback');
    expect(parsed.toJSON()).toEqual(error.toJSON());
  });

  it('keeps text that is not a wire error as a 500 detail', () => {
    expect(parseWireError('boom', 'peer').toJSON()).toEqual({ id: 'peer', code: 500, detail: 'boom', status: 'Internal Server Error' });
    expect(parseWireError('{"code":"nope"}', 'peer').code).toBe(500);
    expect(parseWireError('[1,2]', 'peer').detail).toBe('[1,2]');
  });

  it('turns a thrown Error into a 500 that carries its message but never its stack', () => {
    const thrown = new Error('database is down');
    const error = toMicroError(thrown, 'orders');
    expect(error.toJSON()).toEqual({ id: 'orders', code: 500, detail: 'database is down', status: 'Internal Server Error' });
    expect(error.toWire()).not.toContain('at ');
    expect(toMicroError('plain string', 'orders').detail).toBe('plain string');
    expect(toMicroError(42, 'orders').code).toBe(500);
  });

  it('passes a MicroError through unchanged', () => {
    const error = MicroError.timeout('x', 'slow');
    expect(toMicroError(error, 'y')).toBe(error);
  });
});
