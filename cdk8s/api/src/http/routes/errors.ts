// The error answers several routes share, each with the one error body.
import { errorAnswer } from '../route.ts';

export const badRequest = errorAnswer(
  'The request does not match its schema, or a value is not valid for this engine: `field` names it.',
);
export const bodyTooLarge = errorAnswer('The body is larger than 1 MiB.');
export const notJson = errorAnswer('The body is not `application/json`.');
export const unavailable = errorAnswer(
  'The engine cannot make the answer durable: its WAL failed, or it is starting or shutting down.',
);
/** The answers of a route that takes a JSON body. */
export const bodyErrors = { 400: badRequest, 413: bodyTooLarge, 415: notJson } as const;
