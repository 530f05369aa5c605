package cognitosetup

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	ciptypes "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/google/uuid"

	"github.com/agentcore-identity/agentcore/internal/cli/connect"
)

// Setup creates the runtime pool and the identity pool of flow (FlowUser
// or FlowM2M). On failure it deletes what it created.
func Setup(ctx context.Context, t *connect.Target, flow string) (File, error) {
	if flow != FlowUser && flow != FlowM2M {
		return File{}, fmt.Errorf("--auth-flow %q: must be user or m2m", flow)
	}
	s := &cognitoSetup{t: t, c: t.Cognito(), id: uuid.NewString()[:8]}
	res, err := s.run(ctx, flow)
	if err != nil {
		// Leave nothing half-made behind.
		if rerr := s.rollback(context.WithoutCancel(ctx)); rerr != nil {
			return res, fmt.Errorf("%w (removing the pools created so far also failed: %v)", err, rerr)
		}
		return res, err
	}
	return res, nil
}

type createdPool struct{ id, domain string }

type cognitoSetup struct {
	t       *connect.Target
	c       *cip.Client
	id      string
	created []createdPool
}

func (s *cognitoSetup) run(ctx context.Context, flow string) (File, error) {
	out := File{FlowType: flow}
	rt, err := s.pool(ctx, "AgentCoreRuntimePool-"+s.id, "agentcore-runtime-"+s.id)
	if err != nil {
		return out, err
	}
	client, err := s.c.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{
		UserPoolId: aws.String(rt.PoolID), ClientName: aws.String("RuntimeClient-" + s.id), GenerateSecret: false,
		ExplicitAuthFlows: []ciptypes.ExplicitAuthFlowsType{ciptypes.ExplicitAuthFlowsTypeAllowUserPasswordAuth, ciptypes.ExplicitAuthFlowsTypeAllowRefreshTokenAuth},
	})
	if err != nil {
		return out, fmt.Errorf("create runtime app client: %w", err)
	}
	rt.ClientID = aws.ToString(client.UserPoolClient.ClientId)
	if rt.Username, rt.Password, err = s.user(ctx, rt.PoolID, "testuser"+s.id); err != nil {
		return out, err
	}
	out.Runtime = rt

	if flow == FlowM2M {
		out.Identity, err = s.m2mPool(ctx)
	} else {
		out.Identity, err = s.userPool(ctx)
	}
	return out, err
}

// pool creates a user pool (admin-created users only) with an optional
// hosted domain.
func (s *cognitoSetup) pool(ctx context.Context, name, domain string) (Pool, error) {
	p, err := s.c.CreateUserPool(ctx, &cip.CreateUserPoolInput{
		PoolName:              aws.String(name),
		AdminCreateUserConfig: &ciptypes.AdminCreateUserConfigType{AllowAdminCreateUserOnly: true},
	})
	if err != nil {
		return Pool{}, fmt.Errorf("create user pool %s: %w", name, err)
	}
	id := aws.ToString(p.UserPool.Id)
	s.created = append(s.created, createdPool{id: id})
	out := Pool{PoolID: id, DiscoveryURL: s.t.PoolDiscoveryURL(id)}
	if domain == "" {
		return out, nil
	}
	if _, err := s.c.CreateUserPoolDomain(ctx, &cip.CreateUserPoolDomainInput{Domain: aws.String(domain), UserPoolId: aws.String(id)}); err != nil {
		return out, fmt.Errorf("create domain %s: %w", domain, err)
	}
	s.created[len(s.created)-1].domain = domain
	out.DomainPrefix = domain
	s.waitDomain(ctx, domain)
	return out, nil
}

// waitDomain waits, like the toolkit, up to 30s for the domain to become
// ACTIVE. It is best effort: an IdP that creates domains synchronously (or
// does not describe them) needs no wait, and a slow one shows at login.
func (s *cognitoSetup) waitDomain(ctx context.Context, domain string) {
	for range 30 {
		d, err := s.c.DescribeUserPoolDomain(ctx, &cip.DescribeUserPoolDomainInput{Domain: aws.String(domain)})
		if err != nil || d.DomainDescription == nil {
			return
		}
		switch d.DomainDescription.Status {
		case ciptypes.DomainStatusTypeCreating, ciptypes.DomainStatusTypeUpdating:
		default:
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

func (s *cognitoSetup) user(ctx context.Context, poolID, name string) (string, string, error) {
	pw, err := newPassword()
	if err != nil {
		return "", "", err
	}
	if _, err := s.c.AdminCreateUser(ctx, &cip.AdminCreateUserInput{
		UserPoolId: aws.String(poolID), Username: aws.String(name),
		TemporaryPassword: aws.String(pw), MessageAction: ciptypes.MessageActionTypeSuppress,
	}); err != nil {
		return "", "", fmt.Errorf("create user %s: %w", name, err)
	}
	if _, err := s.c.AdminSetUserPassword(ctx, &cip.AdminSetUserPasswordInput{
		UserPoolId: aws.String(poolID), Username: aws.String(name), Password: aws.String(pw), Permanent: true,
	}); err != nil {
		return "", "", fmt.Errorf("set password of %s: %w", name, err)
	}
	return name, pw, nil
}

func (s *cognitoSetup) userPool(ctx context.Context) (Pool, error) {
	p, err := s.pool(ctx, "AgentCoreIdentityPool-"+s.id, "agentcore-identity-"+s.id)
	if err != nil {
		return p, err
	}
	client, err := s.c.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{
		UserPoolId: aws.String(p.PoolID), ClientName: aws.String("IdentityClient-" + s.id), GenerateSecret: true,
		AllowedOAuthFlows:               []ciptypes.OAuthFlowType{ciptypes.OAuthFlowTypeCode},
		AllowedOAuthScopes:              []string{"openid", "profile", "email"},
		AllowedOAuthFlowsUserPoolClient: true,
		SupportedIdentityProviders:      []string{"COGNITO"},
		CallbackURLs:                    []string{s.t.OAuth2CallbackURL()},
	})
	if err != nil {
		return p, fmt.Errorf("create identity app client: %w", err)
	}
	p.ClientID, p.ClientSecret = aws.ToString(client.UserPoolClient.ClientId), aws.ToString(client.UserPoolClient.ClientSecret)
	p.Username, p.Password, err = s.user(ctx, p.PoolID, "externaluser"+s.id)
	return p, err
}

func (s *cognitoSetup) m2mPool(ctx context.Context) (Pool, error) {
	p, err := s.pool(ctx, "AgentCoreIdentityPool-M2M-"+s.id, "")
	if err != nil {
		return p, err
	}
	rs := "agentcore-m2m-" + s.id
	if _, err := s.c.CreateResourceServer(ctx, &cip.CreateResourceServerInput{
		UserPoolId: aws.String(p.PoolID), Identifier: aws.String(rs), Name: aws.String(rs),
		Scopes: []ciptypes.ResourceServerScopeType{
			{ScopeName: aws.String("read"), ScopeDescription: aws.String("Read access")},
			{ScopeName: aws.String("write"), ScopeDescription: aws.String("Write access")},
		},
	}); err != nil {
		return p, fmt.Errorf("create resource server %s: %w", rs, err)
	}
	client, err := s.c.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{
		UserPoolId: aws.String(p.PoolID), ClientName: aws.String("M2MClient-" + s.id), GenerateSecret: true,
		AllowedOAuthFlows:               []ciptypes.OAuthFlowType{ciptypes.OAuthFlowTypeClientCredentials},
		AllowedOAuthScopes:              []string{rs + "/read", rs + "/write"},
		AllowedOAuthFlowsUserPoolClient: true,
	})
	if err != nil {
		return p, fmt.Errorf("create m2m app client: %w", err)
	}
	p.ClientID, p.ClientSecret = aws.ToString(client.UserPoolClient.ClientId), aws.ToString(client.UserPoolClient.ClientSecret)
	p.DiscoveryURL = ""
	p.TokenEndpoint = TokenEndpoint(ctx, s.t, p.PoolID)
	p.ResourceServerIdentifier, p.Scopes, p.FlowType = rs, []string{"read", "write"}, "client_credentials"
	return p, nil
}

func (s *cognitoSetup) rollback(ctx context.Context) error {
	var errs []error
	for _, p := range s.created {
		errs = append(errs, DeletePool(ctx, s.c, p.id, p.domain))
	}
	return errors.Join(errs...)
}
