package server

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/agentcore-identity/agentcore/internal/awserr"
	"github.com/agentcore-identity/agentcore/internal/config"
	"github.com/agentcore-identity/agentcore/internal/quota"
)

// ClassToken is the rate-limit class of credential vends.
const ClassToken = "token"

// tokenOperations are the operations counted as token requests.
var tokenOperations = map[string]bool{
	"GetWorkloadAccessToken":          true,
	"GetWorkloadAccessTokenForJWT":    true,
	"GetWorkloadAccessTokenForUserId": true,
	"GetResourceOauth2Token":          true,
	"GetResourceApiKey":               true,
	"GetWebIdentityToken":             true,
}

// newLimiter returns override, or the limiter of the configured scope:
// token buckets in this process (local) or in the store, shared by every
// replica on the database (cluster). It publishes the limits and the
// scope as metrics.
func (s *Server) newLimiter(override quota.Limiter) quota.Limiter {
	rl := s.cfg.RateLimits
	s.metrics.SetRateLimit(ClassToken, rl.TokenRequestsPerSecond)
	if override != nil {
		s.metrics.SetRateLimitScope("custom")
		return override
	}
	limits := map[string]quota.Limit{ClassToken: {Rate: rl.TokenRequestsPerSecond, Burst: rl.TokenBurst}}
	scope := s.cfg.EffectiveRateLimitScope()
	s.metrics.SetRateLimitScope(scope)
	s.log.Info("rate limits", slog.String("scope", scope),
		slog.Float64("token_requests_per_second", rl.TokenRequestsPerSecond), slog.Int("token_burst", rl.TokenBurst))
	if scope == config.RateLimitCluster {
		return quota.NewShared(s.store, limits, quota.SharedOptions{
			Logger: s.log, OnStoreError: s.metrics.RateLimitStoreError,
		})
	}
	return quota.NewLocal(limits, s.now)
}

// throttle applies the account's rate limit to operation; the error, if
// any, is a ThrottlingException with the wait in Retry-After.
func (s *Server) throttle(ctx context.Context, service, operation, account string) error {
	if !tokenOperations[operation] {
		return nil
	}
	d, err := s.limiter.Allow(ctx, ClassToken, account)
	if err != nil {
		return awserr.Internal(err)
	}
	if d.Allowed {
		return nil
	}
	s.metrics.Throttled(ClassToken)
	if _, query := s.query[service]; query {
		// awsQuery services spell it "Throttling" and use 400.
		e := awserr.New("Throttling", http.StatusBadRequest, "Rate exceeded")
		e.RetryAfter = d.RetryAfterSeconds()
		return e
	}
	return awserr.Throttling(d.RetryAfterSeconds(), "Rate exceeded for token requests of this account.")
}

// queryAction reads the Action of an awsQuery request without consuming it.
func queryAction(r *http.Request, body []byte) string {
	if r.Method == http.MethodPost {
		if v, err := url.ParseQuery(string(body)); err == nil {
			return v.Get("Action")
		}
		return ""
	}
	return r.URL.Query().Get("Action")
}
