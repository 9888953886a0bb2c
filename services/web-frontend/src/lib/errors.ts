// Turn anything that went wrong into a message a person can act on.

export class ApiError extends Error {
  status: number;
  code: string;
  retryAfter: number | null;

  constructor(status: number, code: string, message: string, retryAfter: number | null = null) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

const STATUS_TEXT: Record<number, string> = {
  400: "The request was not valid.",
  401: "Your API key was not accepted. Sign in again with a valid key.",
  403: "Your API key is not allowed to do this.",
  404: "Not found.",
  408: "The request took too long.",
  413: "The file is too large.",
  415: "This file type is not supported.",
  422: "The input could not be processed.",
  429: "Too many requests.",
  500: "The gateway hit an internal error.",
  502: "The gateway could not be reached.",
  503: "The service is unavailable right now.",
  504: "The service took too long to answer.",
};

function looksLikeHumanText(s: string): boolean {
  // No HTML pages, tracebacks or walls of text in the UI.
  return s.length > 0 && s.length <= 300 && !/<html|<!doctype|Traceback \(most recent call last\)|\n\s+at /i.test(s);
}

function parseRetryAfter(v: string | null): number | null {
  if (!v) return null;
  const n = Number(v);
  if (Number.isFinite(n) && n >= 0) return Math.ceil(n);
  const d = Date.parse(v);
  return Number.isNaN(d) ? null : Math.max(0, Math.ceil((d - Date.now()) / 1000));
}

/** Build an ApiError from a status, headers and the raw body text of an error answer. */
export function errorFromBody(status: number, bodyText: string, retryAfterHeader: string | null = null): ApiError {
  const retryAfter = parseRetryAfter(retryAfterHeader);
  let code = `http_${status}`;
  let message = "";
  try {
    const body = JSON.parse(bodyText);
    const err = body?.error ?? body;
    if (typeof err?.code === "string") code = err.code;
    if (typeof err?.message === "string") message = err.message;
    else if (typeof body?.detail === "string") message = body.detail;
    else if (Array.isArray(body?.detail) && typeof body.detail[0]?.msg === "string") {
      const d = body.detail[0];
      message = `${Array.isArray(d.loc) ? d.loc.slice(-1)[0] + ": " : ""}${d.msg}`;
    }
  } catch {
    if (looksLikeHumanText(bodyText.trim())) message = bodyText.trim();
  }
  if (!looksLikeHumanText(message)) message = STATUS_TEXT[status] ?? `The request failed (HTTP ${status}).`;
  message = message.charAt(0).toUpperCase() + message.slice(1);
  return new ApiError(status, code, message, retryAfter);
}

export async function errorFromResponse(res: Response): Promise<ApiError> {
  let text = "";
  try {
    text = await res.text();
  } catch {
    /* body unreadable: fall back to the status */
  }
  return errorFromBody(res.status, text, res.headers.get("Retry-After"));
}

/** The message shown next to the control that caused the error. */
export function describeError(err: unknown, scope?: string): string {
  if (err instanceof ApiError) {
    let msg = err.message;
    if (err.status === 401) msg = `${msg.replace(/\.?$/, ".")} Check the key and sign in again.`;
    if (err.status === 403 && scope) msg = `Your API key lacks the “${scope}” scope. ${msg}`;
    if ((err.status === 429 || err.status === 503) && err.retryAfter !== null)
      msg = `${msg.replace(/\.?$/, ".")} Try again in ${err.retryAfter} s.`;
    if (err.status === 0) return msg;
    return `${msg} (${err.code}, HTTP ${err.status})`;
  }
  if (err instanceof DOMException && err.name === "AbortError") return "Cancelled.";
  if (err instanceof TypeError) return "Cannot reach the gateway. Check your connection and that the platform is running.";
  if (err instanceof Error && looksLikeHumanText(err.message)) return err.message;
  return "Something went wrong. Please try again.";
}
