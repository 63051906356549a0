import { connect } from 'node:net';

/** Connects, optionally writes `hello`, and resolves with the first bytes the server sends (or '' when it sends none). */
export function tcpProbe(port: number, hello?: Buffer | string, timeoutMs = 1000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const timer = setTimeout(() => {
      socket.destroy();
      if (hello === undefined) resolve(Buffer.alloc(0));
      else reject(new Error(`no answer on 127.0.0.1:${port}`));
    }, timeoutMs);
    socket.once('connect', () => {
      if (hello !== undefined) socket.write(hello);
      else {
        clearTimeout(timer);
        socket.destroy();
        resolve(Buffer.alloc(0));
      }
    });
    socket.once('data', (data) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(data);
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

export async function httpProbe(port: number, path: string): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(1000) });
  return response.text();
}
