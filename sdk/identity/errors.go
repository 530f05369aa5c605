package identity

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/smithy-go"
)

// Error kinds. Every error the service returns is an *APIError that
// matches exactly one of these with errors.Is, so callers branch on the
// kind without knowing the AWS error code spellings of each protocol:
//
//	if errors.Is(err, identity.ErrNotFound) { ... }
//
// The *APIError keeps the AWS code and message, and unwraps to the AWS SDK
// error (so errors.As to, say, *types.ValidationException still works).
var (
	ErrNotFound           = errors.New("not found")
	ErrAccessDenied       = errors.New("access denied")
	ErrValidation         = errors.New("invalid request")
	ErrConflict           = errors.New("conflict")
	ErrThrottled          = errors.New("throttled")
	ErrQuotaExceeded      = errors.New("quota exceeded")
	ErrUnauthorized       = errors.New("unauthorized")
	ErrInternal           = errors.New("internal server error")
	ErrUnsupported        = errors.New("operation not supported by this endpoint")
	ErrFederationDisabled = errors.New("outbound web identity federation is disabled")
	ErrUnclassified       = errors.New("unclassified service error")
)

// Errors of the SDK's own flows (not returned by the service as such).
var (
	// ErrAuthorizationRequired is matched by *AuthorizationRequiredError.
	ErrAuthorizationRequired = errors.New("user authorization required")
	// ErrAuthorizationTimeout is matched by *AuthorizationTimeoutError.
	ErrAuthorizationTimeout = errors.New("user did not complete authorization in time")
	// ErrAuthorizationFailed means the service reported the 3LO session as
	// FAILED (for example the user denied consent).
	ErrAuthorizationFailed = errors.New("user authorization failed")
	// ErrNoWorkloadAccessToken means neither the context nor the local
	// development fallback could supply a workload access token.
	ErrNoWorkloadAccessToken = errors.New("workload access token has not been set")
)

// codeKinds maps AWS error codes (restJson and awsQuery spellings) to kinds.
var codeKinds = map[string]error{
	"ResourceNotFoundException": ErrNotFound,
	"NoSuchEntity":              ErrNotFound,

	"AccessDeniedException": ErrAccessDenied,
	"AccessDenied":          ErrAccessDenied,

	"ValidationException":    ErrValidation,
	"ValidationError":        ErrValidation,
	"InvalidInputException":  ErrValidation,
	"InvalidParameterValue":  ErrValidation,
	"SerializationException": ErrValidation,

	"ConflictException":   ErrConflict,
	"EntityAlreadyExists": ErrConflict,

	"ThrottlingException":      ErrThrottled,
	"ThrottledException":       ErrThrottled,
	"Throttling":               ErrThrottled,
	"TooManyRequestsException": ErrThrottled,

	"ServiceQuotaExceededException": ErrQuotaExceeded,
	"LimitExceeded":                 ErrQuotaExceeded,

	"UnauthorizedException":               ErrUnauthorized,
	"UnrecognizedClientException":         ErrUnauthorized,
	"InvalidSignatureException":           ErrUnauthorized,
	"SignatureDoesNotMatch":               ErrUnauthorized,
	"InvalidClientTokenId":                ErrUnauthorized,
	"MissingAuthenticationToken":          ErrUnauthorized,
	"MissingAuthenticationTokenException": ErrUnauthorized,
	"IncompleteSignature":                 ErrUnauthorized,
	"IncompleteSignatureException":        ErrUnauthorized,
	"ExpiredToken":                        ErrUnauthorized,
	"ExpiredTokenException":               ErrUnauthorized,

	"InternalServerException": ErrInternal,
	"InternalFailure":         ErrInternal,
	"ServiceUnavailable":      ErrInternal,

	"UnknownOperationException": ErrUnsupported,
	"InvalidAction":             ErrUnsupported,

	"OutboundWebIdentityFederationDisabledException": ErrFederationDisabled,
	"FeatureDisabled":          ErrFederationDisabled,
	"FeatureDisabledException": ErrFederationDisabled,
}

// statusKinds classifies codes the table does not know by HTTP status.
var statusKinds = map[int]error{
	400: ErrValidation, 401: ErrUnauthorized, 403: ErrAccessDenied, 404: ErrNotFound,
	409: ErrConflict, 429: ErrThrottled, 500: ErrInternal, 502: ErrInternal, 503: ErrInternal,
}

// APIError is an error answered by the service.
type APIError struct {
	// Operation is the AWS operation name, e.g. "GetResourceOauth2Token".
	Operation string
	// Code and Message are the AWS error code and message.
	Code    string
	Message string
	// StatusCode is the HTTP status (0 if unknown).
	StatusCode int
	// Err is the AWS SDK error.
	Err  error
	kind error
}

func (e *APIError) Error() string {
	return fmt.Sprintf("identity: %s: %s: %s", e.Operation, e.Code, e.Message)
}

// Is reports whether target is the kind of e (ErrNotFound, ...).
func (e *APIError) Is(target error) bool { return target == e.kind }

// Unwrap returns the AWS SDK error.
func (e *APIError) Unwrap() error { return e.Err }

// Kind returns the error kind (ErrNotFound, ErrValidation, ...).
func (e *APIError) Kind() error { return e.kind }

// wrapErr classifies an AWS SDK error. Transport and context errors are
// wrapped with the operation name.
func wrapErr(op string, err error) error {
	if err == nil {
		return nil
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return fmt.Errorf("identity: %s: %w", op, err)
	}
	e := &APIError{Operation: op, Code: ae.ErrorCode(), Message: ae.ErrorMessage(), Err: err}
	var status interface{ HTTPStatusCode() int }
	if errors.As(err, &status) {
		e.StatusCode = status.HTTPStatusCode()
	}
	switch k, ok := codeKinds[e.Code]; {
	case ok:
		e.kind = k
	case statusKinds[e.StatusCode] != nil:
		e.kind = statusKinds[e.StatusCode]
	default:
		e.kind = ErrUnclassified
	}
	return e
}

// AuthorizationRequiredError says the user must open URL and consent before
// the provider's token can be vended. It is returned by GetOAuth2Token, and
// by RequiresAccessToken when no OnAuthURL callback is configured. After
// consent (and CompleteAuthorization, for session binding), repeat the call,
// or poll with SessionURI.
type AuthorizationRequiredError struct {
	Provider   string
	URL        string
	SessionURI string
}

func (e *AuthorizationRequiredError) Error() string {
	return fmt.Sprintf("identity: provider %q needs user authorization: open %s", e.Provider, e.URL)
}

// Is matches ErrAuthorizationRequired.
func (e *AuthorizationRequiredError) Is(target error) bool { return target == ErrAuthorizationRequired }

// AuthorizationTimeoutError says polling ended before the user completed
// the authorization at URL. It matches ErrAuthorizationTimeout and unwraps
// to the context error (context.DeadlineExceeded).
type AuthorizationTimeoutError struct {
	Provider   string
	URL        string
	SessionURI string
	Waited     time.Duration
	Err        error
}

func (e *AuthorizationTimeoutError) Error() string {
	return fmt.Sprintf("identity: user did not complete authorization for provider %q within %s (authorization URL %s)",
		e.Provider, e.Waited.Round(time.Second), e.URL)
}

// Is matches ErrAuthorizationTimeout.
func (e *AuthorizationTimeoutError) Is(target error) bool { return target == ErrAuthorizationTimeout }

// Unwrap returns the context error that ended the wait.
func (e *AuthorizationTimeoutError) Unwrap() error { return e.Err }

func isContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
