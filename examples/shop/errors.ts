/**
 * The failures the shop and the payments service can have. Each sets `name`, which is what a
 * failed span records as its error type.
 */

/** The request itself is wrong: answered 400, never a failed workflow worth alerting on. */
export class BadRequestError extends Error {
  override name = 'BadRequestError';
}

export class OutOfStockError extends Error {
  override name = 'OutOfStockError';
}

export class ProductNotFoundError extends Error {
  override name = 'ProductNotFoundError';
}

/** A simulated query ran past its statement timeout. */
export class QueryTimeoutError extends Error {
  override name = 'QueryTimeoutError';
}

export class InventoryTimeoutError extends Error {
  override name = 'InventoryTimeoutError';
}

/** The payments service declined the card (its answer, not an outage). */
export class PaymentDeclinedError extends Error {
  override name = 'PaymentDeclinedError';
  readonly declineCode: string;

  constructor(declineCode: string) {
    super(`card declined by the payments service: ${declineCode}`);
    this.declineCode = declineCode;
  }
}

/** The payments service did not answer, or answered something unexpected. */
export class PaymentsUnavailableError extends Error {
  override name = 'PaymentsUnavailableError';
}

/** Raised inside the payments service by the (simulated) card network. */
export class CardDeclinedError extends Error {
  override name = 'CardDeclinedError';
  readonly declineCode: string;

  constructor(declineCode: string) {
    super(`the issuer declined the authorization: ${declineCode}`);
    this.declineCode = declineCode;
  }
}

/** The mail relay refused the receipt (the order stands; the customer gets no email). */
export class ReceiptNotSentError extends Error {
  override name = 'ReceiptNotSentError';
}

/** The HTTP status a failure is answered with. */
export function statusFor(error: unknown): number {
  if (error instanceof BadRequestError) return 400;
  if (error instanceof ProductNotFoundError) return 404;
  if (error instanceof OutOfStockError) return 409;
  if (error instanceof PaymentDeclinedError || error instanceof CardDeclinedError) return 402;
  if (error instanceof PaymentsUnavailableError) return 502;
  if (error instanceof InventoryTimeoutError || error instanceof QueryTimeoutError) return 503;
  return 500;
}
