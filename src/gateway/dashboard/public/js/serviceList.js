/** The sidebar: every registered service, filtered by what is typed above it, the selected one marked. */
import { el, replaceChildren } from './dom.js';

export function serviceHref(name) {
  return `#/services/${encodeURIComponent(name)}`;
}

export function renderServiceList(list, message, { services, selected, filter }) {
  const needle = filter.trim().toLowerCase();
  const shown = needle === '' ? services : services.filter((service) => service.name.toLowerCase().includes(needle));
  replaceChildren(
    list,
    shown.map((service) => {
      const nodes = service.versions.reduce((sum, version) => sum + version.nodes.length, 0);
      return el(
        'li',
        {},
        el(
          'a',
          { href: serviceHref(service.name), className: 'service-link', dataset: { service: service.name }, 'aria-current': service.name === selected ? 'page' : undefined },
          el('span', { className: 'service-name' }, service.name),
          el('span', { className: 'service-meta' }, `${service.versions.map((version) => version.version).join(', ')} · ${nodes} ${nodes === 1 ? 'node' : 'nodes'}`),
        ),
      );
    }),
  );
  const text = services.length === 0 ? 'No services are registered.' : shown.length === 0 ? `No service matches "${filter.trim()}".` : '';
  message.textContent = text;
  message.hidden = text === '';
}
