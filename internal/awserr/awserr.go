// Package awserr is the one error type that crosses from domain services to
// the wire: an AWS error code, its HTTP status, a client-safe message and,
// kept apart, the internal cause that is only ever logged.
package awserr

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Error codes used by this service, as the AWS SDKs know them.
const (
	CodeValidation          = "ValidationException"
	CodeResourceNotFound    = "ResourceNotFoundException"
	CodeConflict            = "ConflictException"
	CodeAccessDenied        = "AccessDeniedException"
	CodeServiceQuota        = "ServiceQuotaExceededException"
	CodeThrottling          = "ThrottlingException"
	CodeUnauthorized        = "UnauthorizedException"
	CodeInternal            = "InternalServerException"
	CodeUnknownOperation    = "UnknownOperationException"
	CodeMissingAuthToken    = "MissingAuthenticationTokenException"
	CodeIncompleteSignature = "IncompleteSignatureException"
	CodeUnrecognizedClient  = "UnrecognizedClientException"
	CodeInvalidSignature    = "InvalidSignatureException"
	CodeRequestTooLarge     = "RequestEntityTooLargeException"
)

// Validation reasons (wire values of ValidationExceptionReason).
const (
	ReasonCannotParse           = "CannotParse"
	ReasonFieldValidationFailed = "FieldValidationFailed"
)

// FieldError names one invalid input member.
type FieldError struct {
	Name    string `json:"name"`
	Message string `json:"message"`
}

// Error is an AWS-style error. Message is shown to the client; Cause is not.
type Error struct {
	Code    string
	Status  int
	Message string
	Reason  string       // ValidationException only
	Fields  []FieldError // ValidationException only
	Cause   error        // internal detail, logged, never rendered
	// RetryAfter, in seconds, is sent as the Retry-After header when > 0.
	RetryAfter int
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Cause)
	}
	return e.Code + ": " + e.Message
}

// Unwrap exposes the internal cause to errors.Is/As.
func (e *Error) Unwrap() error { return e.Cause }

// As returns the *Error in err's chain, or an InternalServerException that
// wraps err when there is none (an unexpected error is never shown as-is).
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return Internal(err)
}

// IsCode reports whether err carries the given AWS error code.
func IsCode(err error, code string) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}

// New builds an error with an explicit code and status.
func New(code string, status int, format string, args ...any) *Error {
	return &Error{Code: code, Status: status, Message: fmt.Sprintf(format, args...)}
}

// Validation reports invalid input as a whole.
func Validation(format string, args ...any) *Error {
	return &Error{Code: CodeValidation, Status: http.StatusBadRequest, Reason: ReasonFieldValidationFailed,
		Message: fmt.Sprintf(format, args...)}
}

// CannotParse reports a body that is not the expected encoding.
func CannotParse(format string, args ...any) *Error {
	return &Error{Code: CodeValidation, Status: http.StatusBadRequest, Reason: ReasonCannotParse,
		Message: fmt.Sprintf(format, args...)}
}

// Field reports invalid input members, AWS style: "N validation error(s) detected: ...".
func Field(fields ...FieldError) *Error {
	parts := make([]string, len(fields))
	for i, f := range fields {
		parts[i] = fmt.Sprintf("Value at '%s' failed to satisfy constraint: %s", f.Name, f.Message)
	}
	noun := "error"
	if len(fields) != 1 {
		noun = "errors"
	}
	return &Error{
		Code: CodeValidation, Status: http.StatusBadRequest, Reason: ReasonFieldValidationFailed,
		Message: fmt.Sprintf("%d validation %s detected: %s", len(fields), noun, strings.Join(parts, "; ")),
		Fields:  fields,
	}
}

// NotFound reports a missing resource.
func NotFound(format string, args ...any) *Error {
	return New(CodeResourceNotFound, http.StatusNotFound, format, args...)
}

// Conflict reports a resource that already exists or changed concurrently.
func Conflict(format string, args ...any) *Error {
	return New(CodeConflict, http.StatusConflict, format, args...)
}

// AccessDenied reports a caller that is not allowed to do this.
func AccessDenied(format string, args ...any) *Error {
	return New(CodeAccessDenied, http.StatusForbidden, format, args...)
}

// Unauthorized reports a missing or invalid bearer credential.
func Unauthorized(format string, args ...any) *Error {
	return New(CodeUnauthorized, http.StatusUnauthorized, format, args...)
}

// QuotaExceeded reports an account quota reached. AgentCore models it as 402.
func QuotaExceeded(format string, args ...any) *Error {
	return New(CodeServiceQuota, http.StatusPaymentRequired, format, args...)
}

// Throttling reports a rate limit; retryAfter is in seconds.
func Throttling(retryAfter int, format string, args ...any) *Error {
	e := New(CodeThrottling, http.StatusTooManyRequests, format, args...)
	e.RetryAfter = retryAfter
	return e
}

// Internal hides cause behind a generic message.
func Internal(cause error) *Error {
	return &Error{Code: CodeInternal, Status: http.StatusInternalServerError,
		Message: "An internal error occurred. Try your request again.", Cause: cause}
}
