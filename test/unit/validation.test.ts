import { describe, expect, it } from '@jest/globals';
import { Type } from 'class-transformer';
import { IsEmail, IsInt, IsNotEmpty, IsOptional, IsString, Min, ValidateNested } from 'class-validator';
import { MicroError } from '../../src/index.js';
import { describeType } from '../../src/validation/describeType.js';
import { payloadPreparer } from '../../src/validation/validatePayload.js';

class Address {
  @IsString()
  @IsNotEmpty()
  city!: string;
}

class SignUp {
  @IsEmail()
  email!: string;

  @IsInt()
  @Min(18)
  age!: number;

  @IsOptional()
  @IsString({ each: true })
  tags?: string[];

  @ValidateNested()
  @Type(() => Address)
  address!: Address;

  greeting(): string {
    return `hi ${this.email}`;
  }
}

const prepare = payloadPreparer(SignUp, 'accounts', 'request to accounts Accounts.signUp');

async function rejection(payload: unknown): Promise<MicroError> {
  try {
    await prepare(payload);
  } catch (error) {
    if (MicroError.is(error)) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

describe('payload validation', () => {
  it('turns a valid payload into an instance of the class', async () => {
    const instance = (await prepare({ email: 'ada@example.com', age: 36, address: { city: 'London' } })) as SignUp;
    expect(instance).toBeInstanceOf(SignUp);
    expect(instance.address).toBeInstanceOf(Address);
    expect(instance.greeting()).toBe('hi ada@example.com');
  });

  it('rejects with 400 listing every failing field and constraint, nested ones by path', async () => {
    const error = await rejection({ email: 'nope', age: 3, tags: ['ok', 5], address: { city: '' } });
    expect(error.code).toBe(400);
    expect(error.id).toBe('accounts');
    expect(error.violations!.map((violation) => violation.field).sort()).toEqual(['address.city', 'age', 'email', 'tags']);
    expect(error.violations!.find((violation) => violation.field === 'age')!.constraints).toEqual({ min: 'age must not be less than 18' });
    expect(error.detail).toContain('invalid request to accounts Accounts.signUp: ');
    expect(error.detail).toContain('email: email must be an email (isEmail)');
    expect(error.detail).toContain('address.city: city should not be empty (isNotEmpty)');
  });

  it('rejects something that is not an object with a clear message', async () => {
    expect((await rejection(null)).detail).toBe('invalid request to accounts Accounts.signUp: expected a JSON object (SignUp), got null');
    expect((await rejection([1])).detail).toMatch(/got an array/);
    expect((await rejection('text')).detail).toMatch(/got a string/);
    expect((await rejection(undefined)).detail).toMatch(/got an empty body/);
  });
});

describe('describeType', () => {
  it('describes a class as a Value tree the registry can carry', () => {
    expect(describeType(SignUp, 'request')).toEqual({
      name: 'request',
      type: 'SignUp',
      values: [
        { name: 'email', type: 'string' },
        { name: 'age', type: 'number' },
        { name: 'tags', type: 'string[]?' },
        { name: 'address', type: 'Address', values: [{ name: 'city', type: 'string' }] },
      ],
    });
  });

  it('describes primitives and nothing', () => {
    expect(describeType(String, 'request')).toEqual({ name: 'request', type: 'string' });
    expect(describeType(undefined, 'request')).toBeNull();
  });
});
