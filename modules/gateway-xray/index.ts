import { ContainerModule, CORE_VERSION, definePlugin, Tokens } from '../../src/index.js';
import { commonOptionsSchema, segmentNameFormat, type XRayOptions } from '../shared/xray/options.js';
import { TraceRecorder } from '../shared/xray/TraceRecorder.js';
import { XRayGatewayPlugin } from './XRayGatewayPlugin.js';

/**
 * `gateway.plugins: [xray]`: an AWS X-Ray segment per gateway request, sent to the X-Ray daemon over UDP, and
 * the X-Amzn-Trace-Id header passed to every call and event the request makes and back to the HTTP client.
 * Options live under `gateway.xray`. No npm packages: the daemon protocol is written here.
 */
export default definePlugin<XRayOptions>({
  name: 'xray',
  kind: 'gateway',
  description: 'AWS X-Ray: a segment per gateway request, sent to the X-Ray daemon; trace header propagated to services',
  provides: ['GatewayPlugin'],
  core: `^${CORE_VERSION}`,
  options: {
    name: { doc: 'Segment name of the gateway in X-Ray (its node in the trace map)', format: segmentNameFormat(false), default: 'tsmicro-gateway', env: 'MICRO_API_XRAY_NAME' },
    ...commonOptionsSchema(),
  },
  create: ({ options, config }) =>
    new ContainerModule(({ bind }) => {
      bind(Tokens.GatewayPlugin)
        .toDynamicValue((context) => {
          const logger = context.get(Tokens.Logger).child({ component: 'xray' });
          return new XRayGatewayPlugin(new TraceRecorder(options, logger), options.name, logger, config.gateway.healthPath);
        })
        .inSingletonScope();
    }),
});
