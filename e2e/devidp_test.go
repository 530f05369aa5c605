package e2e

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/agentcore-identity/agentcore/internal/devidp"
	"github.com/agentcore-identity/agentcore/internal/inbound"
	"github.com/agentcore-identity/agentcore/internal/inbound/jwtauth"
	"github.com/agentcore-identity/agentcore/internal/servertest"
)

const (
	devIdPSuffix   = "a1b2c3d4"
	devIdPPassword = "Xy7!pQ2#mN5$kL8@"
	devIdPCallback = "http://127.0.0.1:9/identities/oauth2/callback" // never fetched
)

// cognito is a real Cognito user pools client pointed at the server;
// creds nil makes it unsigned (InitiateAuth needs no SigV4).
func cognito(env *servertest.Env, creds aws.CredentialsProvider) *cip.Client {
	return cip.New(cip.Options{BaseEndpoint: aws.String(env.URL), Region: env.Region, Credentials: creds, RetryMaxAttempts: 1})
}

// idpPools is what setup-cognito creates (facts §1.1), in the built-in IdP.
type idpPools struct {
	runtimePool, runtimeClient, runtimeUser               string
	identityPool, identityClient, identitySecret, extUser string
	m2mPool, m2mClient, m2mSecret, resourceServer         string
}

func setupCognito(t *testing.T, ctx context.Context, c *cip.Client) idpPools {
	t.Helper()
	must := func(err error, what string) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	pool := func(name, domain string) string {
		out, err := c.CreateUserPool(ctx, &cip.CreateUserPoolInput{PoolName: aws.String(name),
			AdminCreateUserConfig: &types.AdminCreateUserConfigType{AllowAdminCreateUserOnly: true}})
		must(err, "create pool "+name)
		id := aws.ToString(out.UserPool.Id)
		if !regexp.MustCompile(`^us-east-1_[A-Za-z0-9]{9}$`).MatchString(id) {
			t.Errorf("pool id %q does not look like Cognito's", id)
		}
		if domain != "" {
			_, err = c.CreateUserPoolDomain(ctx, &cip.CreateUserPoolDomainInput{UserPoolId: &id, Domain: aws.String(domain)})
			must(err, "create domain")
			d, err := c.DescribeUserPoolDomain(ctx, &cip.DescribeUserPoolDomainInput{Domain: aws.String(domain)})
			must(err, "describe domain")
			if d.DomainDescription.Status != types.DomainStatusTypeActive || aws.ToString(d.DomainDescription.UserPoolId) != id {
				t.Errorf("domain = %+v", d.DomainDescription)
			}
		}
		return id
	}
	user := func(poolID, name string, attrs ...types.AttributeType) string {
		_, err := c.AdminCreateUser(ctx, &cip.AdminCreateUserInput{UserPoolId: &poolID, Username: aws.String(name),
			TemporaryPassword: aws.String("Temp0rary!pass"), MessageAction: types.MessageActionTypeSuppress, UserAttributes: attrs})
		must(err, "create user")
		_, err = c.AdminSetUserPassword(ctx, &cip.AdminSetUserPasswordInput{UserPoolId: &poolID, Username: aws.String(name),
			Password: aws.String(devIdPPassword), Permanent: true})
		must(err, "set password")
		got, err := c.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: &poolID, Username: aws.String(name)})
		must(err, "get user")
		if got.UserStatus != types.UserStatusTypeConfirmed {
			t.Errorf("user status = %s", got.UserStatus)
		}
		return name
	}
	var p idpPools
	p.runtimePool = pool("AgentCoreRuntimePool-"+devIdPSuffix, "agentcore-runtime-"+devIdPSuffix)
	rc, err := c.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{UserPoolId: &p.runtimePool,
		ClientName: aws.String("RuntimeClient-" + devIdPSuffix), GenerateSecret: false,
		ExplicitAuthFlows: []types.ExplicitAuthFlowsType{types.ExplicitAuthFlowsTypeAllowUserPasswordAuth, types.ExplicitAuthFlowsTypeAllowRefreshTokenAuth}})
	must(err, "create runtime client")
	p.runtimeClient = aws.ToString(rc.UserPoolClient.ClientId)
	if !regexp.MustCompile(`^[a-z0-9]{26}$`).MatchString(p.runtimeClient) || rc.UserPoolClient.ClientSecret != nil {
		t.Errorf("public client = %q secret %v", p.runtimeClient, rc.UserPoolClient.ClientSecret)
	}
	p.runtimeUser = user(p.runtimePool, "testuser"+devIdPSuffix)

	p.identityPool = pool("AgentCoreIdentityPool-"+devIdPSuffix, "agentcore-identity-"+devIdPSuffix)
	ic, err := c.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{UserPoolId: &p.identityPool,
		ClientName: aws.String("IdentityClient-" + devIdPSuffix), GenerateSecret: true,
		ExplicitAuthFlows:               []types.ExplicitAuthFlowsType{types.ExplicitAuthFlowsTypeAllowUserPasswordAuth, types.ExplicitAuthFlowsTypeAllowRefreshTokenAuth},
		AllowedOAuthFlows:               []types.OAuthFlowType{types.OAuthFlowTypeCode},
		AllowedOAuthScopes:              []string{"openid", "profile", "email"},
		AllowedOAuthFlowsUserPoolClient: true, CallbackURLs: []string{devIdPCallback},
		SupportedIdentityProviders: []string{"COGNITO"}})
	must(err, "create identity client")
	p.identityClient, p.identitySecret = aws.ToString(ic.UserPoolClient.ClientId), aws.ToString(ic.UserPoolClient.ClientSecret)
	if len(p.identitySecret) < 50 {
		t.Errorf("client secret %q is too short", p.identitySecret)
	}
	p.extUser = user(p.identityPool, "externaluser"+devIdPSuffix,
		types.AttributeType{Name: aws.String("email"), Value: aws.String("ext@example.test")},
		types.AttributeType{Name: aws.String("email_verified"), Value: aws.String("true")})

	p.m2mPool = pool("AgentCoreIdentityPool-M2M-"+devIdPSuffix, "")
	p.resourceServer = "agentcore-m2m-" + devIdPSuffix
	_, err = c.CreateResourceServer(ctx, &cip.CreateResourceServerInput{UserPoolId: &p.m2mPool,
		Identifier: aws.String(p.resourceServer), Name: aws.String(p.resourceServer),
		Scopes: []types.ResourceServerScopeType{{ScopeName: aws.String("read"), ScopeDescription: aws.String("Read")},
			{ScopeName: aws.String("write"), ScopeDescription: aws.String("Write")}}})
	must(err, "create resource server")
	mc, err := c.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{UserPoolId: &p.m2mPool,
		ClientName: aws.String("M2MClient-" + devIdPSuffix), GenerateSecret: true,
		AllowedOAuthFlows:               []types.OAuthFlowType{types.OAuthFlowTypeClientCredentials},
		AllowedOAuthScopes:              []string{p.resourceServer + "/read", p.resourceServer + "/write"},
		AllowedOAuthFlowsUserPoolClient: true, SupportedIdentityProviders: []string{"COGNITO"}})
	must(err, "create m2m client")
	p.m2mClient, p.m2mSecret = aws.ToString(mc.UserPoolClient.ClientId), aws.ToString(mc.UserPoolClient.ClientSecret)
	return p
}

func discoveryURL(env *servertest.Env, pool string) string {
	return env.URL + devidp.PathPrefix + pool + "/.well-known/openid-configuration"
}

func TestDevIdPCognitoQuickstart(t *testing.T) {
	backends(t, func(t *testing.T, b servertest.Backend) {
		env := servertest.Start(t, servertest.Options{Backend: b})
		ctx := servertest.Context(t)
		admin := cognito(env, env.Credentials())
		p := setupCognito(t, ctx, admin)
		public := cognito(env, nil) // no credentials: InitiateAuth is unsigned
		v := jwtauth.New(jwtauth.Options{})

		// get-cognito-inbound-token: USER_PASSWORD_AUTH on the public client.
		out, err := public.InitiateAuth(ctx, &cip.InitiateAuthInput{AuthFlow: types.AuthFlowTypeUserPasswordAuth,
			ClientId: &p.runtimeClient, AuthParameters: map[string]string{"USERNAME": p.runtimeUser, "PASSWORD": devIdPPassword}})
		if err != nil {
			t.Fatalf("InitiateAuth: %v", err)
		}
		access := aws.ToString(out.AuthenticationResult.AccessToken)
		ac := servertest.JWTClaims(t, access)
		if ac["client_id"] != p.runtimeClient || ac["token_use"] != "access" || ac["username"] != p.runtimeUser || ac["aud"] != nil {
			t.Errorf("access token claims = %v", ac)
		}
		if ac["iss"] != env.URL+devidp.PathPrefix+p.runtimePool {
			t.Errorf("iss = %v", ac["iss"])
		}
		caller, err := v.Validate(ctx, inbound.JWTAuthorizerConfig{DiscoveryURL: discoveryURL(env, p.runtimePool),
			AllowedClients: []string{p.runtimeClient}}, access)
		if err != nil {
			t.Fatalf("allowedClients validation: %v", err)
		}
		if caller.Subject == "" {
			t.Errorf("caller = %+v", caller)
		}
		if _, err := v.Validate(ctx, inbound.JWTAuthorizerConfig{DiscoveryURL: discoveryURL(env, p.runtimePool),
			AllowedAudience: []string{p.runtimeClient}}, access); err == nil {
			t.Error("a Cognito access token (no aud) passed an allowedAudience authorizer")
		}
		id := servertest.JWTClaims(t, aws.ToString(out.AuthenticationResult.IdToken))
		if id["aud"] != p.runtimeClient || id["token_use"] != "id" || id["cognito:username"] != p.runtimeUser {
			t.Errorf("id token claims = %v", id)
		}

		refreshed, err := public.InitiateAuth(ctx, &cip.InitiateAuthInput{AuthFlow: types.AuthFlowTypeRefreshTokenAuth,
			ClientId: &p.runtimeClient, AuthParameters: map[string]string{"REFRESH_TOKEN": aws.ToString(out.AuthenticationResult.RefreshToken)}})
		if err != nil {
			t.Fatalf("REFRESH_TOKEN_AUTH: %v", err)
		}
		if _, err := v.Validate(ctx, inbound.JWTAuthorizerConfig{DiscoveryURL: discoveryURL(env, p.runtimePool),
			AllowedClients: []string{p.runtimeClient}}, aws.ToString(refreshed.AuthenticationResult.AccessToken)); err != nil {
			t.Errorf("refreshed token: %v", err)
		}

		_, err = public.InitiateAuth(ctx, &cip.InitiateAuthInput{AuthFlow: types.AuthFlowTypeUserPasswordAuth,
			ClientId: &p.runtimeClient, AuthParameters: map[string]string{"USERNAME": p.runtimeUser, "PASSWORD": "Wrong!pass123"}})
		if code := apiCode(t, err); code != "NotAuthorizedException" {
			t.Errorf("wrong password: %s", code)
		}

		// The confidential client needs SECRET_HASH.
		params := map[string]string{"USERNAME": p.extUser, "PASSWORD": devIdPPassword}
		_, err = public.InitiateAuth(ctx, &cip.InitiateAuthInput{AuthFlow: types.AuthFlowTypeUserPasswordAuth,
			ClientId: &p.identityClient, AuthParameters: params})
		if code := apiCode(t, err); code != "NotAuthorizedException" {
			t.Errorf("missing SECRET_HASH: %s", code)
		}
		params["SECRET_HASH"] = devidp.SecretHash(p.identitySecret, p.extUser, p.identityClient)
		if _, err := public.InitiateAuth(ctx, &cip.InitiateAuthInput{AuthFlow: types.AuthFlowTypeUserPasswordAuth,
			ClientId: &p.identityClient, AuthParameters: params}); err != nil {
			t.Errorf("with SECRET_HASH: %v", err)
		}

		// Admin operations need SigV4.
		if _, err := public.DescribeUserPool(ctx, &cip.DescribeUserPoolInput{UserPoolId: &p.runtimePool}); err == nil {
			t.Error("DescribeUserPool without SigV4 succeeded")
		}
		_, err = admin.DescribeUserPool(ctx, &cip.DescribeUserPoolInput{UserPoolId: aws.String("us-east-1_nosuchpoo")})
		if code := apiCode(t, err); code != "ResourceNotFoundException" {
			t.Errorf("unknown pool: %s", code)
		}

		codeFlow(t, ctx, env, p, v)
		clientCredentials(t, ctx, env, p, v)
		adminLifecycle(t, ctx, admin, p)

		if _, err := admin.DeleteUserPool(ctx, &cip.DeleteUserPoolInput{UserPoolId: &p.runtimePool}); err != nil {
			t.Fatalf("delete pool: %v", err)
		}
		resp, err := http.Get(discoveryURL(env, p.runtimePool))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("discovery of a deleted pool: %d", resp.StatusCode)
		}
	})
}

var (
	csrfRE  = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)
	reqIDRE = regexp.MustCompile(`name="authRequestID" value="([^"]+)"`)
)

// browser is a cookie-keeping client that stops at the client's callback.
type browser struct {
	t  *testing.T
	hc *http.Client
}

func newBrowser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, hc: &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), devIdPCallback) {
			return http.ErrUseLastResponse
		}
		return nil
	}}}
}

func (b *browser) do(req *http.Request) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.hc.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func (b *browser) post(ctx context.Context, u string, form url.Values) (*http.Response, string) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

func formField(t *testing.T, re *regexp.Regexp, page string) string {
	t.Helper()
	m := re.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no %s in page:\n%s", re, page)
	}
	return m[1]
}

func codeFlow(t *testing.T, ctx context.Context, env *servertest.Env, p idpPools, v *jwtauth.Validator) {
	iss := env.URL + devidp.PathPrefix + p.identityPool
	cfg := oauth2.Config{ClientID: p.identityClient, ClientSecret: p.identitySecret, RedirectURL: devIdPCallback,
		Scopes: []string{"openid", "profile", "email"}, Endpoint: oauth2.Endpoint{AuthURL: iss + "/oauth2/authorize", TokenURL: iss + "/oauth2/token"}}
	verifier := oauth2.GenerateVerifier()
	br := newBrowser(t)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, cfg.AuthCodeURL("st-1", oauth2.S256ChallengeOption(verifier)), nil)
	resp, page := br.do(req)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "Sign in") {
		t.Fatalf("authorize led to %d %s:\n%s", resp.StatusCode, resp.Request.URL, page)
	}
	loginURL := resp.Request.URL.String()
	reqID, csrf := formField(t, reqIDRE, page), formField(t, csrfRE, page)

	// No CSRF token: refused, and no session cookie is set.
	resp, _ = br.post(ctx, loginURL, url.Values{"authRequestID": {reqID}, "username": {p.extUser}, "password": {devIdPPassword}})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("login without CSRF token: %d", resp.StatusCode)
	}
	for _, c := range br.hc.Jar.Cookies(resp.Request.URL) {
		if c.Name == "devidp_session" {
			t.Error("a session cookie was set by a login without CSRF token")
		}
	}
	resp, _ = br.post(ctx, loginURL, url.Values{"authRequestID": {reqID}, "csrf_token": {"forged" + csrf}, "username": {p.extUser}, "password": {devIdPPassword}})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("login with a forged CSRF token: %d", resp.StatusCode)
	}
	resp, page = br.post(ctx, loginURL, url.Values{"authRequestID": {reqID}, "csrf_token": {csrf}, "username": {p.extUser}, "password": {"nope"}})
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(page, "Incorrect username or password.") {
		t.Errorf("wrong password: %d", resp.StatusCode)
	}
	resp, page = br.post(ctx, loginURL, url.Values{"authRequestID": {reqID}, "csrf_token": {csrf}, "username": {p.extUser}, "password": {devIdPPassword}})
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "Allow access?") || !strings.Contains(page, "<code>email</code>") {
		t.Fatalf("login did not lead to consent: %d\n%s", resp.StatusCode, page)
	}
	resp, _ = br.post(ctx, resp.Request.URL.String(), url.Values{"authRequestID": {formField(t, reqIDRE, page)},
		"csrf_token": {formField(t, csrfRE, page)}, "decision": {"allow"}})
	if resp.StatusCode != http.StatusFound && resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("consent: %d", resp.StatusCode)
	}
	cb, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || cb.Query().Get("state") != "st-1" || cb.Query().Get("code") == "" {
		t.Fatalf("callback = %v", resp.Header.Get("Location"))
	}
	tok, err := cfg.Exchange(ctx, cb.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	if _, err := cfg.Exchange(ctx, cb.Query().Get("code"), oauth2.VerifierOption(verifier)); err == nil {
		t.Error("an authorization code was redeemed twice")
	}
	ac := servertest.JWTClaims(t, tok.AccessToken)
	if ac["client_id"] != p.identityClient || ac["username"] != p.extUser || ac["aud"] != nil || ac["scope"] != "openid profile email" {
		t.Errorf("code-flow access token = %v", ac)
	}
	idt, _ := tok.Extra("id_token").(string)
	ic := servertest.JWTClaims(t, idt)
	// The library writes aud as a one-element array; OIDC allows both.
	if aud, _ := ic["aud"].([]any); len(aud) != 1 || aud[0] != p.identityClient || ic["token_use"] != "id" || ic["cognito:username"] != p.extUser || ic["email"] != "ext@example.test" {
		t.Errorf("id token = %v", ic)
	}
	if _, err := v.Validate(ctx, inbound.JWTAuthorizerConfig{DiscoveryURL: discoveryURL(env, p.identityPool),
		AllowedClients: []string{p.identityClient}}, tok.AccessToken); err != nil {
		t.Errorf("code-flow access token: %v", err)
	}

	ui, _ := http.NewRequestWithContext(ctx, http.MethodGet, iss+"/oauth2/userInfo", nil)
	ui.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, body := br.do(ui)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"email":"ext@example.test"`) {
		t.Errorf("userinfo: %d %s", resp.StatusCode, body)
	}

	// Refresh rotates: the new refresh token works, the old one no longer.
	fresh, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if fresh.RefreshToken == "" || fresh.RefreshToken == tok.RefreshToken || fresh.AccessToken == tok.AccessToken {
		t.Errorf("refresh did not rotate")
	}
	if _, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil {
		t.Error("a rotated-out refresh token still worked")
	}

	// The browser's session skips the password; denying consent sends
	// access_denied to the client.
	req, _ = http.NewRequestWithContext(ctx, http.MethodGet, cfg.AuthCodeURL("st-2", oauth2.S256ChallengeOption(verifier)), nil)
	resp, page = br.do(req)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "Allow access?") {
		t.Fatalf("second authorization did not go straight to consent: %d\n%s", resp.StatusCode, page)
	}
	resp, _ = br.post(ctx, resp.Request.URL.String(), url.Values{"authRequestID": {formField(t, reqIDRE, page)},
		"csrf_token": {formField(t, csrfRE, page)}, "decision": {"deny"}})
	cb, err = url.Parse(resp.Header.Get("Location"))
	if err != nil || cb.Query().Get("error") != "access_denied" || cb.Query().Get("state") != "st-2" || cb.Query().Has("code") {
		t.Errorf("denied consent redirected to %q", resp.Header.Get("Location"))
	}
}

// adminLifecycle drives the remaining admin operations through the SDK.
func adminLifecycle(t *testing.T, ctx context.Context, c *cip.Client, p idpPools) {
	list, err := c.ListUserPools(ctx, &cip.ListUserPoolsInput{MaxResults: aws.Int32(2)})
	if err != nil || len(list.UserPools) != 2 || list.NextToken == nil {
		t.Fatalf("list page 1: %v %+v", err, list)
	}
	rest, err := c.ListUserPools(ctx, &cip.ListUserPoolsInput{MaxResults: aws.Int32(60), NextToken: list.NextToken})
	if err != nil || len(rest.UserPools) != 1 || rest.NextToken != nil {
		t.Fatalf("list page 2: %v %+v", err, rest)
	}
	got, err := c.DescribeUserPoolClient(ctx, &cip.DescribeUserPoolClientInput{UserPoolId: &p.identityPool, ClientId: &p.identityClient})
	if err != nil || aws.ToString(got.UserPoolClient.ClientSecret) != p.identitySecret || got.UserPoolClient.CallbackURLs[0] != devIdPCallback {
		t.Fatalf("describe client: %v", err)
	}
	upd, err := c.UpdateUserPoolClient(ctx, &cip.UpdateUserPoolClientInput{UserPoolId: &p.identityPool, ClientId: &p.identityClient,
		AllowedOAuthFlows: []types.OAuthFlowType{types.OAuthFlowTypeCode}, AllowedOAuthScopes: []string{"openid"},
		AllowedOAuthFlowsUserPoolClient: true, CallbackURLs: []string{"https://app.example.test/cb"}})
	if err != nil || aws.ToString(upd.UserPoolClient.ClientName) != "IdentityClient-"+devIdPSuffix || upd.UserPoolClient.CallbackURLs[0] != "https://app.example.test/cb" {
		t.Fatalf("update client: %v %+v", err, upd)
	}
	_, err = c.UpdateUserPoolClient(ctx, &cip.UpdateUserPoolClientInput{UserPoolId: &p.identityPool, ClientId: &p.identityClient,
		AllowedOAuthScopes: []string{"nosuch/scope"}})
	if code := apiCode(t, err); code != "ScopeDoesNotExistException" {
		t.Errorf("unknown scope: %s", code)
	}
	if _, err := c.DeleteUserPoolClient(ctx, &cip.DeleteUserPoolClientInput{UserPoolId: &p.identityPool, ClientId: &p.identityClient}); err != nil {
		t.Fatalf("delete client: %v", err)
	}
	_, err = c.DescribeUserPoolClient(ctx, &cip.DescribeUserPoolClientInput{UserPoolId: &p.identityPool, ClientId: &p.identityClient})
	if code := apiCode(t, err); code != "ResourceNotFoundException" {
		t.Errorf("deleted client: %s", code)
	}
	_, err = c.AdminCreateUser(ctx, &cip.AdminCreateUserInput{UserPoolId: &p.identityPool, Username: aws.String(p.extUser)})
	if code := apiCode(t, err); code != "UsernameExistsException" {
		t.Errorf("duplicate user: %s", code)
	}
	if _, err := c.AdminDeleteUser(ctx, &cip.AdminDeleteUserInput{UserPoolId: &p.identityPool, Username: aws.String(p.extUser)}); err != nil {
		t.Fatalf("delete user: %v", err)
	}
	_, err = c.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: &p.identityPool, Username: aws.String(p.extUser)})
	if code := apiCode(t, err); code != "UserNotFoundException" {
		t.Errorf("deleted user: %s", code)
	}
	domain := "agentcore-identity-" + devIdPSuffix
	if _, err := c.DeleteUserPoolDomain(ctx, &cip.DeleteUserPoolDomainInput{UserPoolId: &p.identityPool, Domain: &domain}); err != nil {
		t.Fatalf("delete domain: %v", err)
	}
	d, err := c.DescribeUserPoolDomain(ctx, &cip.DescribeUserPoolDomainInput{Domain: &domain})
	if err != nil || d.DomainDescription.Domain != nil {
		t.Errorf("deleted domain: %v %+v", err, d.DomainDescription)
	}
}

func clientCredentials(t *testing.T, ctx context.Context, env *servertest.Env, p idpPools, v *jwtauth.Validator) {
	cc := clientcredentials.Config{ClientID: p.m2mClient, ClientSecret: p.m2mSecret,
		TokenURL: env.URL + devidp.PathPrefix + p.m2mPool + "/oauth2/token"}
	tok, err := cc.Token(ctx)
	if err != nil {
		t.Fatalf("client credentials: %v", err)
	}
	c := servertest.JWTClaims(t, tok.AccessToken)
	want := p.resourceServer + "/read " + p.resourceServer + "/write"
	if c["client_id"] != p.m2mClient || c["sub"] != p.m2mClient || c["scope"] != want || c["username"] != nil || c["aud"] != nil {
		t.Errorf("m2m token = %v", c)
	}
	if _, err := v.Validate(ctx, inbound.JWTAuthorizerConfig{DiscoveryURL: discoveryURL(env, p.m2mPool),
		AllowedClients: []string{p.m2mClient}, AllowedScopes: []string{p.resourceServer + "/read"}}, tok.AccessToken); err != nil {
		t.Errorf("m2m token validation: %v", err)
	}
	cc.ClientSecret = "wrong"
	if _, err := cc.Token(ctx); err == nil {
		t.Error("client credentials with a wrong secret succeeded")
	}
}
