/**
 * Errors as OpenAI sends them: an HTTP status and
 * `{ "error": { "message", "type", "param", "code" } }`, so every OpenAI
 * client raises its usual exception with a message naming the field.
 */
export type ApiErrorType = 'invalid_request_error' | 'authentication_error' | 'not_found_error' | 'rate_limit_error' | 'server_error' | 'timeout_error';

export interface ApiErrorBody {
  error: { message: string; type: ApiErrorType; param: string | null; code: string | null };
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: ApiErrorType = 'invalid_request_error',
    readonly param: string | null = null,
    readonly code: string | null = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  body(): ApiErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

/** A request field with a bad value: 400 naming it. */
export const badField = (param: string, message: string): ApiError => new ApiError(400, message, 'invalid_request_error', param, 'invalid_value');
