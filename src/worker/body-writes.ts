/**
 * Whether a request body may still be on its way out of a socket, so that a reused buffer is
 * only rewritten once nothing can still be sending it.
 *
 * An answer does not prove that: undici hands a Buffer body to socket.write() whole and resolves
 * the request as soon as the answer is in, and for Buffer bodies (unlike streams) it does not
 * close a connection whose answer came before the body was written. A proxy that answers 401 or
 * 413 on the headers alone leaves the rest of the body queued in the socket, read from our
 * buffer as the kernel takes it. So the sockets each body was written on are recorded (undici's
 * documented `undici:client:sendHeaders` channel names the socket of every request), and a body
 * is at rest once each of them has written everything queued (writableLength counts bytes until
 * libuv reports them written) or is destroyed (its handle closed: libuv writes nothing more).
 *
 * The channel is per thread, so only the worker's own requests are seen here. It is subscribed
 * after undici is loaded, so undici's NODE_DEBUG logging (which skips a channel that already has
 * subscribers) is unaffected.
 */
import { subscribe } from 'node:diagnostics_channel';
import type { Socket } from 'node:net';

/** Bodies posted through the transport, and the sockets each was written on so far. */
const socketsOf = new WeakMap<object, Socket[]>();

let subscribed = false;

/** Called by the transport before each post of `body` (a retry posts the same body again). */
export function notePosting(body: Uint8Array): void {
  if (!subscribed) {
    subscribed = true;
    subscribe('undici:client:sendHeaders', onSendHeaders);
  }
  if (!socketsOf.has(body)) socketsOf.set(body, []);
}

function onSendHeaders(message: unknown): void {
  const { request, socket } = message as { request?: { body?: unknown }; socket?: Socket };
  const body = request?.body;
  if (typeof body !== 'object' || body === null || socket === undefined) return;
  socketsOf.get(body)?.push(socket);
}

/**
 * True when nothing can still be reading `body` to send it: never posted, or every socket it was
 * written on is drained or destroyed. A body posted but never seen written (it failed before a
 * connection took it, or an undici that no longer publishes the channel) counts as not at rest:
 * the caller then lets it go rather than guess.
 */
export function isBodyAtRest(body: Uint8Array): boolean {
  const sockets = socketsOf.get(body);
  if (sockets === undefined) return true;
  if (sockets.length === 0) return false;
  return sockets.every((socket) => socket.destroyed || socket.writableLength === 0);
}
