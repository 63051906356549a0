import { requireServer } from '../../test/servers/testServers.js';
import { runRegistryContract } from '../../test/contracts/registryContract.js';
import { uniqueName } from '../../test/helpers/eventually.js';
import { testRegistry } from './testSupport.js';

const server = await requireServer('etcd');
// One prefix per run, shared by every instance (they stand for processes of one system).
const prefix = `/${uniqueName('tsmicro-contract')}/`;

server.describe('registry-etcd contract', () => {
  // A 1.5 s TTL becomes a 2 s lease (whole seconds, rounded up; etcd's minimum is 2 s with default settings).
  runRegistryContract('etcd', { create: () => testRegistry(server.address, { prefix }), ttlMs: 1500, expiryGraceMs: 3000 });
});
