/**
 * Incoming requests, through the channels Node publishes for every http/https server:
 * `http.server.request.start` (after the request head is parsed, before the 'request' event, in
 * the same synchronous run, which is what lets the span be entered for the handler) and
 * `http.server.response.finish`. No server or handler is wrapped.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { plainUntilFinishListener } from '../tracing/event-emitter';
import { enterRequest, finishRequest } from './request-span';

interface ServerMessage {
  request: IncomingMessage;
  response: ServerResponse;
  socket: Socket;
}

export function onServerRequestStart(message: unknown): void {
  const { request, response, socket } = message as ServerMessage;
  try {
    plainUntilFinishListener(response, socket ?? null);
    enterRequest(request, response);
  } catch {
    // A subscriber that throws would surface as an uncaught exception: the request goes untraced.
  }
}

export function onServerResponseFinish(message: unknown): void {
  const { request, response } = message as ServerMessage;
  try {
    finishRequest(request, response);
  } catch {
    // as above
  }
}
