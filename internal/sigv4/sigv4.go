// Package sigv4 verifies inbound AWS Signature Version 4 requests (header
// and presigned-query forms) by recomputing the signature with the AWS SDK's
// own signer and comparing in constant time.
package sigv4

import (
	"context"
	"errors"
	"fmt"
)

// Failure classifies why a request was not authenticated. Each protocol
// surface maps it to its own error code (restJson vs awsQuery spellings).
type Failure int

// Failure kinds.
const (
	// FailMissing: no Authorization header and no presigned query.
	FailMissing Failure = iota + 1
	// FailIncomplete: malformed Authorization header, credential scope or
	// missing X-Amz-Date / signed headers.
	FailIncomplete
	// FailUnknownKey: the access key id is not known (or its session token
	// does not match).
	FailUnknownKey
	// FailSignature: the signature does not match.
	FailSignature
	// FailExpired: X-Amz-Date is too far from the server clock, or a
	// presigned URL has expired.
	FailExpired
)

// Error is a verification failure. Message is safe to show the client; it
// never contains the secret or the expected signature.
type Error struct {
	Kind    Failure
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("sigv4: %s", e.Message) }

// FailureOf returns the failure kind of err, or 0.
func FailureOf(err error) Failure {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return 0
}

// Credential is an access key the service holds.
type Credential struct {
	AccessKeyID     string
	SecretAccessKey string
	// SessionToken, when set, must equal the request's X-Amz-Security-Token.
	SessionToken string
}

// CredentialSource looks up an access key. It returns an error wrapping
// ErrUnknownKey when the key does not exist.
type CredentialSource interface {
	Lookup(ctx context.Context, accessKeyID string) (Credential, error)
}

// ErrUnknownKey is what a CredentialSource wraps for an unknown key.
var ErrUnknownKey = errors.New("sigv4: unknown access key")

// Scope is the parsed credential scope of a verified request.
type Scope struct {
	AccessKeyID string
	Date        string // yyyymmdd
	Region      string
	Service     string
}
