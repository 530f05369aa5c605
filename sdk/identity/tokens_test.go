package identity

import (
	"context"
	"errors"
	"reflect"
	"testing"
)

func TestGetWorkloadAccessTokenPicksTheOperationLikeThePythonSDK(t *testing.T) {
	cases := []struct {
		name     string
		user     []UserOption
		wantPath string
		wantBody map[string]any
	}{
		{"agent-itself", nil, "/identities/GetWorkloadAccessToken",
			map[string]any{"workloadName": "agent"}},
		{"user-id", []UserOption{WithUserID("alice")}, "/identities/GetWorkloadAccessTokenForUserId",
			map[string]any{"workloadName": "agent", "userId": "alice"}},
		{"user-token", []UserOption{WithUserToken("a.b.c")}, "/identities/GetWorkloadAccessTokenForJWT",
			map[string]any{"workloadName": "agent", "userToken": "a.b.c"}},
		{"token-beats-id", []UserOption{WithUserID("alice"), WithUserToken("a.b.c")}, "/identities/GetWorkloadAccessTokenForJWT",
			map[string]any{"workloadName": "agent", "userToken": "a.b.c"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newWireFake(t, func(wireCall) wireReply { return ok(map[string]any{"workloadAccessToken": "wat-" + tc.name}) })
			wat, err := f.client(nil).GetWorkloadAccessToken(context.Background(), "agent", tc.user...)
			if err != nil {
				t.Fatal(err)
			}
			if wat != "wat-"+tc.name {
				t.Errorf("token = %q", wat)
			}
			calls := f.Calls()
			if len(calls) != 1 || calls[0].Path != tc.wantPath || !reflect.DeepEqual(calls[0].Body, tc.wantBody) {
				t.Errorf("calls = %+v, want one %s %v", calls, tc.wantPath, tc.wantBody)
			}
		})
	}
}

func TestGetOAuth2TokenSendsTheRequestAndReportsConsent(t *testing.T) {
	f := newWireFake(t, func(c wireCall) wireReply {
		if c.Body["oauth2Flow"] == "M2M" {
			return ok(map[string]any{"accessToken": "m2m-token"})
		}
		return ok(map[string]any{
			"authorizationUrl": "https://idp.example/authorize?request_uri=x",
			"sessionUri":       "urn:ietf:params:oauth:request_uri:abc",
			"sessionStatus":    "IN_PROGRESS",
		})
	})
	c := f.client(nil)
	ctx := WithWorkloadAccessToken(context.Background(), "wat-1")

	tok, err := c.GetClientCredentialsToken(ctx, "svc", "read", "write")
	if err != nil || tok != "m2m-token" {
		t.Fatalf("GetClientCredentialsToken = %q, %v", tok, err)
	}
	_, err = c.GetOAuth2Token(ctx, TokenRequest{
		Provider: "github", Scopes: []string{"repo"}, Flow: FlowUserFederation, CallbackURL: "https://app/cb",
		ForceAuthentication: true, CustomState: "st", CustomParameters: map[string]string{"prompt": "consent"},
	})
	var ar *AuthorizationRequiredError
	if !errors.As(err, &ar) || !errors.Is(err, ErrAuthorizationRequired) {
		t.Fatalf("want *AuthorizationRequiredError, got %v", err)
	}
	if ar.URL != "https://idp.example/authorize?request_uri=x" || ar.SessionURI != "urn:ietf:params:oauth:request_uri:abc" || ar.Provider != "github" {
		t.Errorf("AuthorizationRequiredError = %+v", ar)
	}

	calls := f.Calls()
	want0 := map[string]any{"workloadIdentityToken": "wat-1", "resourceCredentialProviderName": "svc",
		"scopes": []any{"read", "write"}, "oauth2Flow": "M2M"}
	if !reflect.DeepEqual(calls[0].Body, want0) {
		t.Errorf("M2M body = %v\nwant %v", calls[0].Body, want0)
	}
	want1 := map[string]any{"workloadIdentityToken": "wat-1", "resourceCredentialProviderName": "github",
		"scopes": []any{"repo"}, "oauth2Flow": "USER_FEDERATION", "resourceOauth2ReturnUrl": "https://app/cb",
		"forceAuthentication": true, "customState": "st", "customParameters": map[string]any{"prompt": "consent"}}
	if !reflect.DeepEqual(calls[1].Body, want1) {
		t.Errorf("3LO body = %v\nwant %v", calls[1].Body, want1)
	}
	for _, c := range calls {
		if c.Path != "/identities/oauth2/token" {
			t.Errorf("path = %s", c.Path)
		}
	}
}

func TestGetAuthorizationURLForcesANewSession(t *testing.T) {
	f := newWireFake(t, func(wireCall) wireReply {
		return ok(map[string]any{"authorizationUrl": "https://u", "sessionUri": "urn:ietf:params:oauth:request_uri:s1"})
	})
	ctx := WithWorkloadAccessToken(context.Background(), "wat")
	s, err := f.client(nil).GetAuthorizationURL(ctx, TokenRequest{Provider: "g", Scopes: []string{"openid"}})
	if err != nil {
		t.Fatal(err)
	}
	if *s != (AuthorizationSession{Provider: "g", URL: "https://u", SessionURI: "urn:ietf:params:oauth:request_uri:s1"}) {
		t.Errorf("session = %+v", s)
	}
	body := f.Calls()[0].Body
	if body["forceAuthentication"] != true || body["oauth2Flow"] != "USER_FEDERATION" {
		t.Errorf("body = %v", body)
	}
}

func TestCompleteAuthorizationSendsTheUserArtifact(t *testing.T) {
	f := newWireFake(t, func(wireCall) wireReply { return ok(map[string]any{}) })
	c := f.client(nil)
	ctx := context.Background()
	if err := c.CompleteAuthorization(ctx, "urn:s", WithUserID("alice")); err != nil {
		t.Fatal(err)
	}
	if err := c.CompleteAuthorization(ctx, "urn:s", WithUserToken("h.p.s")); err != nil {
		t.Fatal(err)
	}
	if err := c.CompleteAuthorization(ctx, "urn:s", UserOption{}); !errors.Is(err, ErrValidation) {
		t.Errorf("no user: %v", err)
	}
	calls := f.Calls()
	if len(calls) != 2 {
		t.Fatalf("calls = %v", calls)
	}
	want := []map[string]any{
		{"sessionUri": "urn:s", "userIdentifier": map[string]any{"userId": "alice"}},
		{"sessionUri": "urn:s", "userIdentifier": map[string]any{"userToken": "h.p.s"}},
	}
	for i, c := range calls {
		if c.Path != "/identities/CompleteResourceTokenAuth" || !reflect.DeepEqual(c.Body, want[i]) {
			t.Errorf("call %d = %+v, want %v", i, c, want[i])
		}
	}
}

func TestNoWorkloadAccessTokenWithoutFallback(t *testing.T) {
	f := newWireFake(t, func(wireCall) wireReply { return ok(map[string]any{"apiKey": "k"}) })
	_, err := f.client(nil).GetAPIKey(context.Background(), "weather")
	if !errors.Is(err, ErrNoWorkloadAccessToken) {
		t.Fatalf("got %v", err)
	}
	if len(f.Calls()) != 0 {
		t.Errorf("calls made without a token: %v", f.Paths())
	}
}
