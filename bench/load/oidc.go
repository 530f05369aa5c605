package main

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/agentcore-identity/agentcore/internal/oidctest"
)

// tb lets the program use internal/oidctest, a test-support package that
// takes a testing.TB: Fatal and Error become a panic that catchFatal turns
// back into an error, and Cleanup functions run on close. Methods oidctest
// does not call are left to the nil embedded interface.
type tb struct {
	testing.TB
	mu       sync.Mutex
	cleanups []func()
}

// fatal carries a Fatal call's message through the panic.
type fatal struct{ err error }

func (t *tb) Helper()                   {}
func (t *tb) Name() string              { return "bench-load" }
func (t *tb) Log(...any)                {}
func (t *tb) Logf(string, ...any)       {}
func (t *tb) Fatal(args ...any)         { panic(fatal{errors.New(fmt.Sprint(args...))}) }
func (t *tb) Fatalf(f string, a ...any) { panic(fatal{fmt.Errorf(f, a...)}) }
func (t *tb) Errorf(f string, a ...any) { panic(fatal{fmt.Errorf(f, a...)}) }

func (t *tb) Cleanup(f func()) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.cleanups = append(t.cleanups, f)
}

// close runs the cleanups, last registered first, as testing does.
func (t *tb) close() {
	t.mu.Lock()
	fs := t.cleanups
	t.cleanups = nil
	t.mu.Unlock()
	for i := len(fs) - 1; i >= 0; i-- {
		fs[i]()
	}
}

// catchFatal runs fn and returns the error of a Fatal call made in it.
func catchFatal(fn func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			f, ok := r.(fatal)
			if !ok {
				panic(r)
			}
			err = f.err
		}
	}()
	fn()
	return nil
}

// The identity provider's client and user.
const (
	idpClient = "bench-app"
	idpSecret = "bench-app-secret"
	idpScope  = "read"
	idpUser   = "alice"
)

// identityProvider is a real OpenID provider on loopback: the
// authorization server of the M2M scenario and the issuer of the user
// tokens of the ForJWT scenario.
type identityProvider struct {
	*oidctest.Provider
	// userToken is an access token of idpUser for idpClient, signed with
	// the provider's published key (RS256, Cognito-style claims).
	userToken string
}

func startIdentityProvider(t *tb) (*identityProvider, error) {
	var p identityProvider
	err := catchFatal(func() {
		p.Provider = oidctest.Start(t, oidctest.Options{
			Style:   oidctest.StyleCognito,
			Users:   []oidctest.User{{Username: idpUser, Password: "bench-password"}},
			Clients: []oidctest.Client{{ID: idpClient, Secret: idpSecret, Scopes: []string{idpScope}}},
		})
		p.userToken = p.SignRaw(p.AccessTokenClaims(idpClient, idpUser, idpScope), oidctest.SignOptions{})
	})
	if err != nil {
		return nil, fmt.Errorf("start identity provider: %w", err)
	}
	return &p, nil
}
