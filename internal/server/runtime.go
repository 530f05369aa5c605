package server

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/url"

	"github.com/agentcore-identity/agentcore/internal/awserr"
	"github.com/agentcore-identity/agentcore/internal/awsproto"
	"github.com/agentcore-identity/agentcore/internal/controlplane"
	"github.com/agentcore-identity/agentcore/internal/dataplane"
	"github.com/agentcore-identity/agentcore/internal/inbound/jwtauth"
	"github.com/agentcore-identity/agentcore/internal/oauthclient"
	"github.com/agentcore-identity/agentcore/internal/runtime"
	"github.com/agentcore-identity/agentcore/internal/tokenvault"
	"github.com/agentcore-identity/agentcore/internal/wat"
)

// RuntimeCallbackPath is the built-in OAuth2 return-URL handler of local
// runtimes (the starter toolkit's :8081 /oauth2/callback, on our port).
const RuntimeCallbackPath = "/runtime-callback/oauth2/callback"

// mountRuntime adds the local agent runtime: the agent runtime control
// plane, InvokeAgentRuntime (SigV4 operation and bearer public route) and
// the local session-binding return URL.
func mountRuntime(_ context.Context, m *mounts) error {
	var sup *runtime.Supervisor
	if m.cfg.LocalRuntimeCommands {
		sup = runtime.NewSupervisor(m.log)
		m.closers = append(m.closers, sup.StopAll)
	}
	svc := runtime.NewService(runtime.Config{
		Store: m.store, Workloads: m.workloads, Region: m.cfg.Region, Processes: sup, Keys: m.keys,
		CallbackURL: m.publicURL + RuntimeCallbackPath, BindingDefault: loopback(m.publicURL),
	})
	jwt := jwtauth.New(jwtauth.Options{Now: m.now, Logger: m.log})
	// A second view of the 3LO flows over the same store and keys: session
	// completion is stateless apart from the store.
	flows := tokenvault.NewFlows(tokenvault.FlowsConfig{
		Store: m.store, Sealer: m.sealer, Providers: m.providers,
		Client:    oauthclient.New(oauthclient.Options{Now: m.now, Logger: m.log}),
		PublicURL: m.publicURL, Now: m.now, Logger: m.log,
	})
	bindings := &runtime.Bindings{Store: m.store, Sealer: m.sealer, Now: m.now, Flows: flows, JWT: jwt, Runtimes: svc}
	inv := &dataplane.InvokeHandlers{
		Invoker: &runtime.Invoker{Runtimes: svc, Tokens: wat.NewService(m.sealer, m.now, 0), JWT: jwt,
			Bindings: bindings, Log: m.log},
		DefaultAccount: m.accountID, Log: m.log,
	}
	m.rest = append(m.rest, (&controlplane.RuntimeHandlers{Runtimes: svc}).Operations()...)
	m.rest = append(m.rest, inv.Operations()...)
	m.public.HandleFunc(dataplane.BearerPattern, inv.ServeBearer)
	m.public.HandleFunc("GET "+RuntimeCallbackPath, func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("session_id") == "" || q.Get("runtime") == "" {
			awsproto.WriteJSONError(w, r, m.log, awserr.Validation("session_id and runtime are required query parameters"))
			return
		}
		if e := q.Get("error"); e != "" {
			awsproto.WriteJSONError(w, r, m.log, awserr.AccessDenied("The sign-in failed at the identity provider: %s", e))
			return
		}
		acct := q.Get("account")
		if acct == "" {
			acct = m.accountID
		}
		user, err := bindings.Complete(r.Context(), acct, q.Get("runtime"), q.Get("session_id"))
		if err != nil {
			awsproto.WriteJSONError(w, r, m.log, err)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{
			"message": "OAuth2 3LO flow completed successfully", "userId": user})
	})
	return nil
}

// loopback reports whether a URL's host is a loopback address (or
// localhost), where only this machine's user can reach it.
func loopback(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	if u.Hostname() == "localhost" {
		return true
	}
	ip := net.ParseIP(u.Hostname())
	return ip != nil && ip.IsLoopback()
}
