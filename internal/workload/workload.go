// Package workload is the workload identity domain: the named identity an
// agent acts as, with the return URLs its 3-legged OAuth flows may send a
// user back to and (our extension) the inbound JWT authorizer that decides
// which user tokens it accepts.
package workload

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/agentcore-identity/agentcore/internal/arn"
	"github.com/agentcore-identity/agentcore/internal/awserr"
	"github.com/agentcore-identity/agentcore/internal/inbound"
	"github.com/agentcore-identity/agentcore/internal/store"
	"github.com/agentcore-identity/agentcore/internal/tagging"
	"github.com/agentcore-identity/agentcore/internal/validate"
)

// Kind is the store kind of workload identity records.
const Kind = "workload-identity"

// DefaultMaxPerAccount is the default workload identity quota.
const DefaultMaxPerAccount = 100

// Constraints from the AgentCore model.
var (
	NameRE      = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)
	ReturnURLRE = regexp.MustCompile(`^\w+:(/?/?)[^\s]+$`)
)

// MaxReturnURLs bounds allowedResourceOauth2ReturnUrls. The model gives no
// bound; 50 keeps a record small and matches the tag limit.
const MaxReturnURLs = 50

// Identity is a workload identity.
type Identity struct {
	Name       string
	ARN        string
	ReturnURLs []string
	// Authorizer, when set, validates end-user JWTs presented for this
	// workload (GetWorkloadAccessTokenForJWT).
	Authorizer *inbound.JWTAuthorizerConfig
	// ProviderGrants, when non-nil, lists the only credential providers
	// the workload may vend from (see MayUse).
	ProviderGrants []string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// doc is the stored document.
type doc struct {
	Name       string                       `json:"name"`
	ReturnURLs []string                     `json:"allowedResourceOauth2ReturnUrls"`
	Authorizer *inbound.JWTAuthorizerConfig `json:"authorizer,omitempty"`
	// Grants, when non-nil, are the only providers it may vend from.
	Grants []string `json:"providerGrants"`
}

// Service manages workload identities.
type Service struct {
	store  store.Store
	tags   *tagging.Service
	region string
	max    int
}

// NewService builds the service. maxPerAccount <= 0 means the default.
func NewService(st store.Store, tags *tagging.Service, region string, maxPerAccount int) *Service {
	if maxPerAccount <= 0 {
		maxPerAccount = DefaultMaxPerAccount
	}
	return &Service{store: st, tags: tags, region: region, max: maxPerAccount}
}

// ValidateName checks a workload identity name.
func ValidateName(v *validate.Errors, field, name string) {
	v.String(field, name, 3, 255, NameRE)
}

func validateURLs(v *validate.Errors, urls []string) {
	const field = "allowedResourceOauth2ReturnUrls"
	if !v.Count(field, len(urls), 0, MaxReturnURLs) {
		return
	}
	for i, u := range urls {
		if !v.String(fmt.Sprintf("%s.%d", field, i+1), u, 1, 2048, ReturnURLRE) {
			return
		}
	}
}

// Create makes a new workload identity. Options set extension members
// (WithAuthorizer) in the same insert, so the identity never exists
// without them.
func (s *Service) Create(ctx context.Context, account, name string, urls []string, tags map[string]string, opts ...Option) (Identity, error) {
	var v validate.Errors
	ValidateName(&v, "name", name)
	validateURLs(&v, urls)
	v.Tags("tags", tags)
	validateOptions(&v, opts)
	if err := v.Err(); err != nil {
		return Identity{}, err
	}
	d := doc{Name: name, ReturnURLs: nonNil(urls)}
	for _, o := range opts {
		o.apply(&d)
	}
	data, err := json.Marshal(d)
	if err != nil {
		return Identity{}, awserr.Internal(err)
	}
	resARN := arn.WorkloadIdentity(s.region, account, name)
	var rec store.Record
	err = s.store.InTx(ctx, func(tx store.Tx) error {
		var err error
		rec, err = tx.Create(ctx, store.Record{Kind: Kind, Account: account, Key: name, Data: data},
			store.CreateOptions{MaxCount: s.max})
		if err != nil {
			return err
		}
		return s.tags.Set(ctx, tx, account, resARN, tags)
	})
	switch {
	case errors.Is(err, store.ErrConflict):
		return Identity{}, awserr.Conflict("A workload identity named %q already exists.", name)
	case errors.Is(err, store.ErrLimitExceeded):
		return Identity{}, awserr.QuotaExceeded("The number of workload identities in this account has reached its limit of %d.", s.max)
	case err != nil:
		return Identity{}, awserr.As(err)
	}
	return s.fromRecord(rec)
}

// Get returns one workload identity.
func (s *Service) Get(ctx context.Context, account, name string) (Identity, error) {
	var v validate.Errors
	ValidateName(&v, "name", name)
	if err := v.Err(); err != nil {
		return Identity{}, err
	}
	rec, err := s.store.Get(ctx, Kind, account, name)
	if err != nil {
		return Identity{}, notFound(name, err)
	}
	return s.fromRecord(rec)
}

// List returns a page of workload identities in name order.
func (s *Service) List(ctx context.Context, account string, limit int, after string) ([]Identity, string, error) {
	page, err := s.store.List(ctx, Kind, account, store.ListOptions{After: after, Limit: limit})
	if err != nil {
		return nil, "", awserr.Internal(err)
	}
	out := make([]Identity, 0, len(page.Records))
	for _, rec := range page.Records {
		id, err := s.fromRecord(rec)
		if err != nil {
			return nil, "", err
		}
		out = append(out, id)
	}
	return out, page.Next, nil
}

// Update replaces the allowed return URLs and applies opts, atomically.
// Members no option mentions (the authorizer, for AWS SDK callers) are
// kept.
func (s *Service) Update(ctx context.Context, account, name string, urls []string, opts ...Option) (Identity, error) {
	var v validate.Errors
	ValidateName(&v, "name", name)
	validateURLs(&v, urls)
	validateOptions(&v, opts)
	if err := v.Err(); err != nil {
		return Identity{}, err
	}
	return s.modify(ctx, account, name, func(d *doc) {
		d.ReturnURLs = nonNil(urls)
		for _, o := range opts {
			o.apply(d)
		}
	})
}

// modify rewrites the stored document of an identity under the store's
// row lock.
func (s *Service) modify(ctx context.Context, account, name string, fn func(*doc)) (Identity, error) {
	rec, err := s.store.Update(ctx, Kind, account, name, func(cur store.Record) (store.Record, error) {
		var d doc
		if err := json.Unmarshal(cur.Data, &d); err != nil {
			return cur, fmt.Errorf("decode workload identity %q: %w", name, err)
		}
		fn(&d)
		data, err := json.Marshal(d)
		if err != nil {
			return cur, err
		}
		cur.Data = data
		return cur, nil
	})
	if err != nil {
		return Identity{}, notFound(name, err)
	}
	return s.fromRecord(rec)
}

// Delete removes a workload identity and its tags.
func (s *Service) Delete(ctx context.Context, account, name string) error {
	var v validate.Errors
	ValidateName(&v, "name", name)
	if err := v.Err(); err != nil {
		return err
	}
	err := s.store.InTx(ctx, func(tx store.Tx) error {
		if err := tx.Delete(ctx, Kind, account, name); err != nil {
			return err
		}
		return s.tags.Set(ctx, tx, account, arn.WorkloadIdentity(s.region, account, name), nil)
	})
	return notFound(name, err)
}

// Exists reports whether the named identity exists (for the tag resolver).
func (s *Service) Exists(ctx context.Context, account, name string) (bool, error) {
	_, err := s.store.Get(ctx, Kind, account, name)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

func (s *Service) fromRecord(rec store.Record) (Identity, error) {
	var d doc
	if err := json.Unmarshal(rec.Data, &d); err != nil {
		return Identity{}, awserr.Internal(fmt.Errorf("decode workload identity %q: %w", rec.Key, err))
	}
	return Identity{
		Name:           d.Name,
		ARN:            arn.WorkloadIdentity(s.region, rec.Account, d.Name),
		ReturnURLs:     nonNil(d.ReturnURLs),
		Authorizer:     d.Authorizer,
		ProviderGrants: d.Grants,
		CreatedAt:      rec.CreatedAt,
		UpdatedAt:      rec.UpdatedAt,
	}, nil
}

func notFound(name string, err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return awserr.NotFound("Workload identity %q not found.", name)
	}
	if err != nil {
		return awserr.As(err)
	}
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
