/**
 * One endpoint: its name and metadata, its request and response descriptions, and (for handlers, not
 * subscribers) a JSON editor with a Call button. Cards are kept by the service view and reused while the
 * endpoint is unchanged, so a registry change never wipes what someone is typing or the reply they are reading.
 */
import { callEndpoint } from './api.js';
import { renderCallResult, renderInvalidJson } from './callResult.js';
import { el, metadataChips, replaceChildren } from './dom.js';
import { renderValue, skeletonOf, summarizeValue } from './valueTree.js';

export function isSubscriber(endpoint) {
  return endpoint.metadata?.subscriber === 'true';
}

/** Options: { service, endpoint, rpcPath: () => string } */
export function createEndpointCard({ service, endpoint, rpcPath }) {
  const subscriber = isSubscriber(endpoint);
  const summary = el(
    'summary',
    { className: 'endpoint-summary' },
    el('span', { className: 'endpoint-name' }, endpoint.name),
    subscriber ? el('span', { className: 'badge' }, 'subscriber') : null,
    el('span', { className: 'endpoint-signature' }, subscriber ? summarizeValue(endpoint.request) : `${summarizeValue(endpoint.request)} → ${summarizeValue(endpoint.response)}`),
  );
  const descriptions = el(
    'div',
    { className: 'endpoint-descriptions' },
    el('section', {}, el('h4', {}, subscriber ? 'Event' : 'Request'), renderValue(endpoint.request)),
    subscriber ? null : el('section', {}, el('h4', {}, 'Response'), renderValue(endpoint.response)),
  );
  return el(
    'details',
    { className: 'endpoint', dataset: { endpoint: endpoint.name } },
    summary,
    metadataChips(endpoint.metadata),
    descriptions,
    subscriber ? el('p', { className: 'hint' }, `Handles events published to "${endpoint.metadata.topic ?? ''}"; it cannot be called.`) : callForm(service, endpoint, rpcPath),
  );
}

function callForm(service, endpoint, rpcPath) {
  const skeleton = JSON.stringify(skeletonOf(endpoint.request), null, 2);
  const editor = el('textarea', { className: 'request-editor', spellcheck: false, rows: Math.min(16, skeleton.split('\n').length + 2), 'aria-label': `Request for ${endpoint.name}`, value: skeleton });
  const jsonStatus = el('p', { className: 'json-status', 'aria-live': 'polite' });
  const output = el('div', { className: 'call-output' });
  const callButton = el('button', { type: 'button', className: 'call-button', onClick: () => void call() }, 'Call');
  const resetButton = el('button', { type: 'button', className: 'secondary', onClick: reset }, 'Reset');

  function parseEditor() {
    const text = editor.value;
    if (text.trim() === '') return { request: {} };
    try {
      return { request: JSON.parse(text) };
    } catch (error) {
      return { error: error.message };
    }
  }

  // A hint while typing; the Call button is what refuses to send.
  function checkAsTyped() {
    const { error } = parseEditor();
    editor.classList.toggle('invalid', error !== undefined);
    jsonStatus.textContent = error === undefined ? '' : `Not valid JSON: ${error}`;
  }

  function reset() {
    editor.value = skeleton;
    checkAsTyped();
    replaceChildren(output);
  }

  async function call() {
    const { request, error } = parseEditor();
    if (error !== undefined) {
      replaceChildren(output, renderInvalidJson(error));
      editor.focus();
      return;
    }
    callButton.disabled = true;
    replaceChildren(output, el('p', { className: 'calling' }, `Calling ${service} ${endpoint.name}…`));
    try {
      replaceChildren(output, renderCallResult(await callEndpoint(rpcPath(), service, endpoint.name, request)));
    } finally {
      callButton.disabled = false;
    }
  }

  editor.addEventListener('input', checkAsTyped);
  editor.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      void call();
    }
  });
  return el(
    'div',
    { className: 'call-form' },
    el('h4', {}, 'Call'),
    editor,
    jsonStatus,
    el('div', { className: 'call-actions' }, callButton, resetButton, el('span', { className: 'hint' }, 'Ctrl+Enter calls')),
    output,
  );
}
