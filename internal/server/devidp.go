package server

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"

	"github.com/agentcore-identity/agentcore/internal/awserr"
	"github.com/agentcore-identity/agentcore/internal/awsproto"
	"github.com/agentcore-identity/agentcore/internal/devidp"
	"github.com/agentcore-identity/agentcore/internal/devidp/cognitoapi"
	"github.com/agentcore-identity/agentcore/internal/devidp/hosted"
)

// mountDevIdP adds the built-in identity provider: the Cognito user pools
// API (signing name cognito-idp, InitiateAuth unsigned) and each pool's
// OpenID provider and hosted pages under /idp/.
func mountDevIdP(_ context.Context, m *mounts) error {
	idp, err := devidp.New(devidp.Options{
		Store: m.store, Sealer: m.sealer, PublicURL: m.publicURL, Region: m.cfg.Region, Now: m.now, Log: m.log,
	})
	if err != nil {
		return err
	}
	svc := (&cognitoapi.Handlers{IdP: idp}).Service(m.log)
	m.json[cognitoapi.SigningName] = svc
	for _, target := range svc.Targets(cognitoapi.PublicOperations()...) {
		m.publicJSON[target] = svc
	}
	pools, err := hosted.New(hosted.Options{IdP: idp, Store: m.store, Now: m.now, Log: m.log})
	if err != nil {
		return err
	}
	m.public.Handle(devidp.PathPrefix, pools)
	return nil
}

// servePublicJSON serves an unsigned awsJson operation. There is no
// principal: the operation authenticates its caller from the body.
func (s *Server) servePublicJSON(w http.ResponseWriter, r *http.Request, js *awsproto.JSONService) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodySize))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			js.WriteError(w, r, awserr.New(awserr.CodeRequestTooLarge, http.StatusRequestEntityTooLarge,
				"Request body exceeds the limit of %d bytes.", tooBig.Limit))
			return
		}
		js.WriteError(w, r, awserr.CannotParse("Could not read request body."))
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	info := infoFrom(r.Context())
	info.service, info.operation = cognitoapi.SigningName, js.Operation(r)
	js.Serve(w, r, body)
}
