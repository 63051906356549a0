import { runBrokerContract } from '../../test/contracts/brokerContract.js';
import { uniqueName } from '../../test/helpers/eventually.js';
import { requireServer } from '../../test/servers/testServers.js';
import { testBroker } from './testSupport.js';

const server = await requireServer('kafka');
// Every run uses its own queue groups: the contract reuses queue names ("workers") across its tests.
const groupPrefix = `${uniqueName('contract')}.`;

server.describe('broker-kafka contract', () => {
  runBrokerContract('kafka', {
    create: () => testBroker(server.address, { groupPrefix }),
    // subscribe() resolves once the member holds its partitions and its start offsets are committed; the
    // other members of a queue group take up to a heartbeat (300 ms here) to rejoin.
    subscribeSettleMs: 1000,
    redelivers: true,
    quietMs: 1000,
    durableQueues: true,
  });
});
