/**
 * The dashboard page: the service list on the left, the selected service on the right (chosen by the URL's
 * hash, so a reload or a shared link keeps it), both kept current from the live stream of registry changes.
 */
import { fetchConfig, fetchService, fetchServices } from './api.js';
import { connectLiveUpdates } from './liveUpdates.js';
import { renderServiceList } from './serviceList.js';
import { ServiceView } from './serviceView.js';

const elements = {
  list: document.getElementById('service-list'),
  listMessage: document.getElementById('service-list-message'),
  filter: document.getElementById('service-filter'),
  view: document.getElementById('service-view'),
  status: document.getElementById('live-status'),
};

const state = {
  rpcPath: '/rpc',
  services: [],
  /** The selected service's name, from the hash. */
  selected: undefined,
  /** The last description of the selected service, kept to show after it stops. */
  lastKnown: undefined,
};

const view = new ServiceView(elements.view, () => state.rpcPath);

/**
 * Each refresh may overtake an earlier one still in flight; only the answer to the latest request is shown.
 */
let listRequest = 0;
let detailRequest = 0;

async function refreshList() {
  const request = ++listRequest;
  try {
    const services = await fetchServices();
    if (request !== listRequest) return;
    state.services = services;
  } catch (error) {
    if (request !== listRequest) return;
    elements.listMessage.textContent = `Could not load the services: ${error.message}`;
    elements.listMessage.hidden = false;
    return;
  }
  renderList();
}

async function refreshDetail() {
  const name = state.selected;
  if (name === undefined) return view.showPlaceholder('Select a service to see its versions, nodes and endpoints.');
  const request = ++detailRequest;
  try {
    const service = await fetchService(name);
    if (request !== detailRequest || name !== state.selected) return;
    if (service) {
      state.lastKnown = service;
      view.show(service);
    } else if (state.lastKnown?.name === name) view.show(state.lastKnown, { gone: true });
    else view.showPlaceholder(`No service named "${name}" is registered.`);
  } catch (error) {
    if (request === detailRequest) view.showError(name, error.message);
  }
}

function renderList() {
  renderServiceList(elements.list, elements.listMessage, { services: state.services, selected: state.selected, filter: elements.filter.value });
}

function selectFromHash() {
  const match = /^#\/services\/(.+)$/.exec(location.hash);
  let name;
  try {
    name = match ? decodeURIComponent(match[1]) : undefined;
  } catch {
    name = undefined;
  }
  if (name !== state.selected) state.lastKnown = undefined;
  state.selected = name;
  renderList();
  void refreshDetail();
}

/** Changes come in bursts (a deployment restarts many nodes): one refresh for each burst, not one per change. */
let pending;
function scheduleRefresh({ detail }) {
  if (pending) {
    pending.detail ||= detail;
    return;
  }
  pending = { detail };
  setTimeout(() => {
    const { detail: refreshSelected } = pending;
    pending = undefined;
    void refreshList();
    if (refreshSelected) void refreshDetail();
  }, 100);
}

const LIVE_STATUS = {
  live: ['live', 'Updates as services start and stop'],
  reconnecting: ['reconnecting…', 'The live update stream is down; retrying'],
  paused: ['paused', 'Live updates pause while the tab is hidden, and catch up when it is shown'],
};

function showLiveStatus(status) {
  const [text, title] = LIVE_STATUS[status];
  elements.status.dataset.state = status;
  elements.status.textContent = text;
  elements.status.title = title;
}

async function start() {
  elements.filter.addEventListener('input', renderList);
  window.addEventListener('hashchange', selectFromHash);
  try {
    state.rpcPath = (await fetchConfig()).rpcPath;
  } catch (error) {
    elements.listMessage.textContent = `Could not load the dashboard's settings (${error.message}); calls go to ${state.rpcPath}.`;
    elements.listMessage.hidden = false;
  }
  selectFromHash();
  void refreshList();
  connectLiveUpdates('api/events', {
    // Changes may have been missed while (re)connecting: fetch everything again.
    onReady: () => scheduleRefresh({ detail: true }),
    onChange: (change) => scheduleRefresh({ detail: change.service === state.selected }),
    onStatus: showLiveStatus,
  });
}

void start();
