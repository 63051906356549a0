import { requireServer } from '../../test/servers/testServers.js';
import { runBrokerContract } from '../../test/contracts/brokerContract.js';
import { uniqueName } from '../../test/helpers/eventually.js';
import { testBroker } from './testSupport.js';

const server = await requireServer('mosquitto');
// One prefix per run, shared by every instance of a suite (they stand for processes of one system).
const topicPrefix = `${uniqueName('tsmicro-contract')}/`;

server.describe('broker-mqtt contract', () => {
  // Clean sessions (the default): a nacked event is run again in the receiving process (see InboundDelivery).
  runBrokerContract('mqtt (clean sessions)', {
    create: () => testBroker(server.address, { topicPrefix }),
    redelivers: true,
    quietMs: 400,
  });

  // Persistent sessions: one client id per instance (two instances stand for two processes), and sessions that
  // expire soon after the test, so the shared server is left clean.
  runBrokerContract('mqtt (persistent sessions)', {
    create: () => testBroker(server.address, { topicPrefix, clientId: uniqueName('contract'), sessionExpiryMs: 5000 }),
    redelivers: true,
    quietMs: 400,
  });
});
