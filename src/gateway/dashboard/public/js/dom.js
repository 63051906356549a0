/**
 * The only way this page builds markup. Everything shown comes from the registry or from services (names,
 * metadata, replies), which anyone able to register can choose, so values only ever become text nodes
 * (`textContent`): never HTML. Attributes are set one by one, and event handlers only as functions.
 */

/**
 * el('a', { href: '#/x', className: 'link', dataset: { service: name }, onClick: fn }, 'text', child…)
 * Children may be strings, numbers, nodes, or arrays of them; null and false are skipped.
 */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'className') node.className = value;
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key.startsWith('on')) {
      // A string here would be an inline script: refused even before the page's policy would block it.
      if (typeof value !== 'function') throw new TypeError(`el(): ${key} must be a function`);
      node.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (key === 'value' || typeof value === 'boolean') node[key] = value;
    else node.setAttribute(key, String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces everything inside `node` with `children`. */
export function replaceChildren(node, ...children) {
  node.replaceChildren();
  append(node, children);
}

/** `key=value` chips for a metadata map; nothing when it is empty. */
export function metadataChips(metadata, className = 'chip') {
  const entries = Object.entries(metadata ?? {});
  if (entries.length === 0) return null;
  return el('ul', { className: 'chips' }, entries.map(([key, value]) => el('li', { className }, el('span', { className: 'chip-key' }, key), '=', el('span', { className: 'chip-value' }, value))));
}

/** Text shortened for display, saying how much was left out. */
export function truncate(text, limit) {
  return text.length <= limit ? text : `${text.slice(0, limit)}\n… (${text.length - limit} more characters not shown)`;
}
