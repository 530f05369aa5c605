package identity

import (
	"context"
	"errors"
	"testing"

	dptypes "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore/types"
	"github.com/aws/smithy-go"
)

func TestServiceErrorsAreClassified(t *testing.T) {
	cases := []struct {
		status int
		code   string
		want   error
	}{
		{404, "ResourceNotFoundException", ErrNotFound},
		{403, "AccessDeniedException", ErrAccessDenied},
		{400, "ValidationException", ErrValidation},
		{409, "ConflictException", ErrConflict},
		{429, "ThrottlingException", ErrThrottled},
		{402, "ServiceQuotaExceededException", ErrQuotaExceeded},
		{401, "UnauthorizedException", ErrUnauthorized},
		{403, "UnrecognizedClientException", ErrUnauthorized},
		{500, "InternalServerException", ErrInternal},
		{404, "UnknownOperationException", ErrUnsupported},
		// Unknown codes fall back to the HTTP status.
		{429, "SlowDownPlease", ErrThrottled},
		{404, "NoSuchThing", ErrNotFound},
		{418, "Teapot", ErrUnclassified},
	}
	for _, tc := range cases {
		t.Run(tc.code, func(t *testing.T) {
			f := newWireFake(t, func(wireCall) wireReply { return awsError(tc.status, tc.code, "told you: "+tc.code) })
			_, err := f.client(nil).GetWorkloadIdentity(context.Background(), "agent")
			if !errors.Is(err, tc.want) {
				t.Fatalf("errors.Is(%v, %v) = false", err, tc.want)
			}
			for _, other := range []error{ErrNotFound, ErrAccessDenied, ErrValidation, ErrThrottled, ErrInternal} {
				if other != tc.want && errors.Is(err, other) {
					t.Errorf("%v also matches %v", err, other)
				}
			}
			var ae *APIError
			if !errors.As(err, &ae) {
				t.Fatalf("%v is not an *APIError", err)
			}
			if ae.Code != tc.code || ae.Message != "told you: "+tc.code || ae.StatusCode != tc.status || ae.Operation != "GetWorkloadIdentity" {
				t.Errorf("APIError = %+v", ae)
			}
			if ae.Kind() != tc.want {
				t.Errorf("Kind() = %v", ae.Kind())
			}
		})
	}
}

func TestAPIErrorUnwrapsToTheAWSError(t *testing.T) {
	f := newWireFake(t, func(wireCall) wireReply { return awsError(400, "ValidationException", "scopes: bad") })
	ctx := WithWorkloadAccessToken(context.Background(), "wat")
	_, err := f.client(nil).GetAPIKey(ctx, "weather")
	var ve *dptypes.ValidationException
	if !errors.As(err, &ve) {
		t.Fatalf("errors.As(*types.ValidationException) failed on %v", err)
	}
	var sm smithy.APIError
	if !errors.As(err, &sm) || sm.ErrorCode() != "ValidationException" {
		t.Fatalf("smithy.APIError not reachable from %v", err)
	}
	if got := err.Error(); got != "identity: GetResourceApiKey: ValidationException: scopes: bad" {
		t.Errorf("Error() = %q", got)
	}
}

func TestTransportErrorsAreWrappedNotClassified(t *testing.T) {
	f := newWireFake(t, func(wireCall) wireReply { return ok(map[string]any{}) })
	c := f.client(nil)
	f.srv.Close()
	_, err := c.GetWorkloadIdentity(context.Background(), "agent")
	if err == nil {
		t.Fatal("call to a closed server succeeded")
	}
	var ae *APIError
	if errors.As(err, &ae) {
		t.Fatalf("transport error classified as API error: %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = c.GetWorkloadIdentity(ctx, "agent")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled call: %v does not match context.Canceled", err)
	}
}
