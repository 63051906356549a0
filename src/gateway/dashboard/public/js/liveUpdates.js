/**
 * The live stream of registry changes (Server-Sent Events). The browser reconnects by itself after the stream
 * ends (the server says how soon); after an HTTP error (503: too many tabs, the registry cannot be watched) it
 * gives up, so this retries with a growing delay. Each (re)connection fires onReady: changes missed while
 * disconnected are caught up by fetching again, since the stream does not replay them.
 *
 * A hidden tab lets go of its stream: browsers allow about six connections per server over HTTP/1.1, and
 * background dashboard tabs each holding one would leave the next tab waiting. It reconnects (and catches up)
 * when shown again.
 */
export function connectLiveUpdates(url, { onReady, onChange, onStatus }) {
  let source;
  let failures = 0;
  let retryTimer;

  function open() {
    close();
    const current = new EventSource(url);
    source = current;
    current.addEventListener('ready', () => {
      failures = 0;
      onStatus('live');
      onReady();
    });
    current.addEventListener('change', (event) => {
      let change;
      try {
        change = JSON.parse(event.data);
      } catch {
        return;
      }
      onChange(change);
    });
    current.addEventListener('error', () => {
      if (current !== source) return;
      onStatus('reconnecting');
      if (current.readyState !== EventSource.CLOSED) return;
      const delay = Math.min(30_000, 1000 * 2 ** failures++);
      retryTimer = setTimeout(open, delay);
    });
  }

  function close() {
    clearTimeout(retryTimer);
    source?.close();
    source = undefined;
  }

  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'hidden') {
      close();
      onStatus('paused');
    } else if (!source) open();
  });
  // Tell the server at once when the tab goes away; a tab restored from the back/forward cache opens again.
  window.addEventListener('pagehide', close);
  window.addEventListener('pageshow', (event) => {
    if (event.persisted && document.visibilityState === 'visible') open();
  });
  if (document.visibilityState === 'visible') open();
  else onStatus('paused');
}
