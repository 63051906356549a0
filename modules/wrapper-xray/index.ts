import { ContainerModule, type ResolutionContext, type ServiceIdentifier, CORE_VERSION, definePlugin, Tokens, type Logger } from '../../src/index.js';
import { commonOptionsSchema, segmentNameFormat, type XRayOptions } from '../shared/xray/options.js';
import { TraceRecorder } from '../shared/xray/TraceRecorder.js';
import { tracingCallWrapper } from './callTracing.js';
import { tracingHandlerWrapper } from './handlerTracing.js';

/**
 * `wrappers.plugins: [xray]`: AWS X-Ray for services. A segment per handled call or event, a remote subsegment
 * per call a handler makes, the X-Amzn-Trace-Id metadata carried on from hop to hop. Options live under
 * `wrappers.xray`. No npm packages: the daemon protocol is written here.
 */
export default definePlugin<XRayOptions>({
  name: 'xray',
  kind: 'wrapper',
  description: 'AWS X-Ray: segments for handled calls and events, remote subsegments for outgoing calls, sent to the X-Ray daemon',
  provides: ['HandlerWrapper', 'CallWrapper'],
  core: `^${CORE_VERSION}`,
  options: {
    name: { doc: "Segment name in X-Ray; empty for each service's own name", format: segmentNameFormat(true), default: '', env: 'MICRO_XRAY_NAME' },
    ...commonOptionsSchema(),
  },
  create: ({ options }) =>
    new ContainerModule(({ bind }) => {
      // One recorder (one socket, one sampler) for both wrappers; a symbol per module, so two apps in one
      // process, or this plugin next to gateway-xray, never share one by accident.
      const recorderToken: ServiceIdentifier<TraceRecorder> = Symbol('tsmicro.xray.wrapperRecorder');
      const loggerOf = (context: ResolutionContext): Logger => context.get(Tokens.Logger).child({ component: 'xray' });
      bind(recorderToken)
        .toDynamicValue((context) => new TraceRecorder(options, loggerOf(context)))
        .inSingletonScope();
      bind(Tokens.HandlerWrapper)
        .toDynamicValue((context) => tracingHandlerWrapper(context.get(recorderToken), options.name, loggerOf(context)))
        .inSingletonScope();
      bind(Tokens.CallWrapper)
        .toDynamicValue((context) => tracingCallWrapper(context.get(recorderToken), loggerOf(context)))
        .inSingletonScope();
      // The daemon socket is released when the app stops.
      bind(Tokens.Closeable).toDynamicValue((context) => context.get(recorderToken));
    }),
});
