/**
 * The selected service: each version with its metadata, nodes and endpoints. Endpoint cards are reused across
 * renders while their description is unchanged (see endpointCard.js), keyed by service, version and endpoint.
 */
import { el, metadataChips, replaceChildren } from './dom.js';
import { createEndpointCard, isSubscriber } from './endpointCard.js';

export class ServiceView {
  /** @param container the <main> element; @param rpcPath () => the gateway path calls go to */
  constructor(container, rpcPath) {
    this.container = container;
    this.rpcPath = rpcPath;
    /** key → { signature, card } */
    this.cards = new Map();
  }

  showPlaceholder(text) {
    this.shown = undefined;
    replaceChildren(this.container, el('p', { className: 'empty' }, text));
  }

  showError(name, message) {
    this.shown = undefined;
    replaceChildren(this.container, el('h2', { className: 'service-title' }, name), el('p', { className: 'message error', role: 'alert' }, `Could not load the service: ${message}`));
  }

  /**
   * @param service the API's { name, versions } (the last one known when `gone`)
   * @param gone true when the service is no longer registered: its last description stays, with a notice
   */
  show(service, { gone = false } = {}) {
    // Change events arrive for any node of the service; when nothing shown changed, nothing is redrawn.
    const signature = JSON.stringify([service, gone]);
    if (signature === this.shown) return;
    this.shown = signature;
    this.#keepingFocus(() => this.#render(service, gone));
  }

  #render(service, gone) {
    const nodeCount = service.versions.reduce((sum, version) => sum + version.nodes.length, 0);
    replaceChildren(
      this.container,
      el(
        'header',
        { className: 'service-header' },
        el('h2', { className: 'service-title' }, service.name),
        el('span', { className: 'service-counts' }, gone ? 'not registered' : `${plural(service.versions.length, 'version')} · ${plural(nodeCount, 'node')}`),
      ),
      gone ? el('p', { className: 'message warning', role: 'status' }, `${service.name} is not registered any more: it has stopped, or its registration expired. Its last known description is shown below.`) : null,
      !gone && service.versions.length > 1 ? el('p', { className: 'message', role: 'note' }, `Calls go through the gateway to any node of ${service.name}, whichever its version.`) : null,
      service.versions.map((version) => this.#version(service.name, version, gone)),
    );
  }

  /**
   * Redrawing detaches the endpoint cards for a moment, which would take the focus (and the caret) away from
   * someone typing a request while a node of the service restarts.
   */
  #keepingFocus(render) {
    const active = document.activeElement;
    const inside = active && this.container.contains(active);
    const selection = inside && typeof active.selectionStart === 'number' ? [active.selectionStart, active.selectionEnd] : undefined;
    render();
    if (!inside || !active.isConnected) return;
    active.focus({ preventScroll: true });
    if (selection) active.setSelectionRange(...selection);
  }

  #version(name, version, gone) {
    // The service's own endpoints first; the framework's (Debug.Health) after them.
    const internal = (endpoint) => (endpoint.metadata?.internal === 'true' ? 1 : 0);
    const handlers = version.endpoints.filter((endpoint) => !isSubscriber(endpoint)).sort((a, b) => internal(a) - internal(b));
    const subscribers = version.endpoints.filter(isSubscriber);
    return el(
      'section',
      { className: 'version', dataset: { version: version.version } },
      el('h3', {}, 'Version ', el('span', { className: 'version-name' }, version.version)),
      metadataChips(version.metadata),
      gone ? null : this.#nodes(version.nodes),
      el('h4', { className: 'section-title' }, `Endpoints (${handlers.length})`),
      handlers.length === 0 ? el('p', { className: 'empty' }, 'No endpoints.') : handlers.map((endpoint) => this.#card(name, version.version, endpoint)),
      subscribers.length === 0 ? null : [el('h4', { className: 'section-title' }, `Subscribers (${subscribers.length})`), subscribers.map((endpoint) => this.#card(name, version.version, endpoint))],
    );
  }

  #nodes(nodes) {
    return el(
      'table',
      { className: 'nodes' },
      el('caption', {}, `Nodes (${nodes.length})`),
      el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'ID'), el('th', { scope: 'col' }, 'Address'), el('th', { scope: 'col' }, 'Metadata'))),
      el(
        'tbody',
        {},
        nodes.map((node) => el('tr', { dataset: { node: node.id } }, el('td', { className: 'mono' }, node.id), el('td', { className: 'mono node-address' }, node.address), el('td', {}, metadataChips(node.metadata)))),
      ),
    );
  }

  #card(service, version, endpoint) {
    const key = JSON.stringify([service, version, endpoint.name]);
    const signature = JSON.stringify(endpoint);
    const known = this.cards.get(key);
    if (known && known.signature === signature) return known.card;
    const card = createEndpointCard({ service, endpoint, rpcPath: this.rpcPath });
    this.cards.set(key, { signature, card });
    return card;
  }
}

function plural(count, word) {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}
