package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/agentcore-identity/agentcore/internal/awserr"
	"github.com/agentcore-identity/agentcore/internal/inbound"
	"github.com/agentcore-identity/agentcore/internal/seal"
	"github.com/agentcore-identity/agentcore/internal/store"
	"github.com/agentcore-identity/agentcore/internal/tokenvault"
	"github.com/agentcore-identity/agentcore/internal/wat"
)

// Local session binding.
//
// AgentCore completes a 3LO flow only when the application calls
// CompleteResourceTokenAuth with the exact user token (or user id) that
// started it, after checking that the browser's user is that user: a
// forwarded authorization link must not bind someone else's account. The
// starter toolkit's local callback server skips that check, because on a
// single-user laptop the browser's user is the caller. Ours does the same,
// and so inherits the trade-off: anyone who can reach the return URL with a
// session id can finish a consent for the invoking user. It is therefore
// on only for local runtimes of a server whose public URL is loopback, or
// when a runtime asks for it (localConfiguration.localSessionBinding).
//
// To finish a flow the handler needs the artifact, which the session only
// knows by hash; so every bearer or user-id invoke of such a runtime keeps
// its artifact, sealed, for the life of the workload access token.

const bindingKind = "agent-runtime-binding"

// SessionCompleter is the part of the token vault's 3LO flows the handler
// uses (tokenvault.Flows).
type SessionCompleter interface {
	Session(ctx context.Context, account, sessionURI, artifact string) (tokenvault.SessionInfo, error)
	Complete(ctx context.Context, account, sessionURI, artifact string) error
}

// Bindings keeps invoke artifacts and completes sessions with them.
type Bindings struct {
	Store    store.Store
	Sealer   seal.Sealer
	Now      func() time.Time
	Flows    SessionCompleter
	JWT      inbound.JWTValidator
	Runtimes *Service
}

type bindingDoc struct {
	Source wat.Source `json:"source"`
	Sealed []byte     `json:"sealed"`
}

func bindingAAD(account, key string) []byte { return seal.AAD(bindingKind, account, key, "artifact") }

// Record keeps artifact for rt's return-URL handler.
func (b *Bindings) Record(ctx context.Context, rt Runtime, source wat.Source, artifact string) error {
	key := rt.ID + "/" + wat.HashArtifact(artifact)
	sealed, err := b.Sealer.Seal(ctx, []byte(artifact), bindingAAD(rt.Account, key))
	if err != nil {
		return fmt.Errorf("seal binding artifact: %w", err)
	}
	data, err := json.Marshal(bindingDoc{Source: source, Sealed: sealed})
	if err != nil {
		return err
	}
	exp := b.Now().Add(bindingTTL)
	_, err = b.Store.Create(ctx, store.Record{Kind: bindingKind, Account: rt.Account, Key: key, Data: data, ExpiresAt: exp}, store.CreateOptions{})
	if errors.Is(err, store.ErrConflict) {
		_, err = b.Store.Update(ctx, bindingKind, rt.Account, key, func(cur store.Record) (store.Record, error) {
			cur.Data, cur.ExpiresAt = data, exp
			return cur, nil
		})
	}
	return err
}

// Complete finishes the 3LO session sessionURI for whichever recent caller
// of the runtime started it. It returns the completed session's user.
func (b *Bindings) Complete(ctx context.Context, account, runtimeID, sessionURI string) (string, error) {
	rt, err := b.Runtimes.Resolve(ctx, account, runtimeID)
	if err != nil {
		return "", err
	}
	if !rt.Binding {
		return "", awserr.AccessDenied("Local session binding is off for runtime %s.", rt.ID)
	}
	after := ""
	for {
		page, err := b.Store.List(ctx, bindingKind, account, store.ListOptions{Prefix: rt.ID + "/", After: after})
		if err != nil {
			return "", awserr.Internal(err)
		}
		for _, rec := range page.Records {
			var d bindingDoc
			if json.Unmarshal(rec.Data, &d) != nil {
				continue
			}
			artifact, err := b.Sealer.Open(ctx, d.Sealed, bindingAAD(account, rec.Key))
			if err != nil {
				continue
			}
			info, err := b.Flows.Session(ctx, account, sessionURI, string(artifact))
			if err != nil {
				continue // not this caller's session
			}
			// As CompleteResourceTokenAuth: a sign-in that has expired
			// since must not finish a consent.
			if d.Source == wat.SourceJWT && rt.Authorizer != nil {
				if _, err := b.JWT.Validate(ctx, *rt.Authorizer, string(artifact)); err != nil {
					return "", awserr.AccessDenied("The user's token is no longer valid; invoke the agent again to start a new sign-in.")
				}
			}
			if err := b.Flows.Complete(ctx, account, sessionURI, string(artifact)); err != nil {
				return "", err
			}
			return info.UserID, nil
		}
		if page.Next == "" {
			return "", awserr.AccessDenied("Invalid or expired session")
		}
		after = page.Next
	}
}
