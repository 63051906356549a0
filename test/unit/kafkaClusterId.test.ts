import { kafkaClusterId } from '../servers/javaServers.js';

describe('the Kafka test server cluster id', () => {
  it('is 16 random bytes in base64url and never starts with "-" (StorageTool would read it as an option)', () => {
    // One id in 64 starts with '-' when drawn plainly; 5,000 draws would all but surely meet several.
    const ids = Array.from({ length: 5000 }, kafkaClusterId);
    for (const id of ids) {
      expect(id).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
      expect(Buffer.from(id, 'base64url')).toHaveLength(16);
    }
    expect(new Set(ids).size).toBe(ids.length);
  });
});
