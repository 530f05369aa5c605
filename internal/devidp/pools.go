package devidp

import (
	"context"
	"errors"
	"regexp"
	"time"

	"github.com/agentcore-identity/agentcore/internal/awserr"
	"github.com/agentcore-identity/agentcore/internal/store"
)

// Pool is a user pool. PrivateKey is sealed.
type Pool struct {
	ID                  string    `json:"id"`
	Name                string    `json:"name"`
	Account             string    `json:"account"`
	Region              string    `json:"region"`
	AdminCreateUserOnly bool      `json:"adminCreateUserOnly"`
	Domain              string    `json:"domain,omitempty"`
	KeyID               string    `json:"kid"`
	PrivateKey          []byte    `json:"privateKey"`
	Created             time.Time `json:"created"`
	Modified            time.Time `json:"modified"`
}

// ARN is the pool's Cognito-style ARN.
func (p *Pool) ARN() string {
	return "arn:aws:cognito-idp:" + p.Region + ":" + p.Account + ":userpool/" + p.ID
}

// Domain is a pool's hosted UI domain prefix.
type Domain struct {
	Domain  string    `json:"domain"`
	PoolID  string    `json:"poolId"`
	Account string    `json:"account"`
	Created time.Time `json:"created"`
}

// ResourceServer defines custom scopes "<identifier>/<scope>".
type ResourceServer struct {
	PoolID     string  `json:"poolId"`
	Identifier string  `json:"identifier"`
	Name       string  `json:"name"`
	Scopes     []Scope `json:"scopes"`
}

// Scope is one resource server scope.
type Scope struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

var (
	poolNameRE   = regexp.MustCompile(`^[\w\s+=,.@-]{1,128}$`)
	domainRE     = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$`)
	identifierRE = regexp.MustCompile(`^[\x21\x23-\x5B\x5D-\x7E]{1,256}$`)
	scopeNameRE  = regexp.MustCompile(`^[\x21\x23-\x2E\x30-\x5B\x5D-\x7E]{1,256}$`)
)

// CreatePool creates a pool with a fresh signing key.
func (s *Service) CreatePool(ctx context.Context, account, name string, adminCreateOnly bool) (Pool, error) {
	if !poolNameRE.MatchString(name) {
		return Pool{}, InvalidParameter("1 validation error detected: Value at 'poolName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w\\s+=,.@-]+")
	}
	now := s.now().UTC()
	p := Pool{ID: s.region + "_" + randomString(alnum, 9), Name: name, Account: account, Region: s.region,
		AdminCreateUserOnly: adminCreateOnly, Created: now, Modified: now}
	var err error
	if p.KeyID, p.PrivateKey, err = s.newPoolKey(ctx, p.ID); err != nil {
		return Pool{}, err
	}
	return p, s.create(ctx, kindPool, p.ID, p, 0)
}

// LookupPool returns any live pool, for the public endpoints, which know
// only its id; a missing pool is store.ErrNotFound.
func (s *Service) LookupPool(ctx context.Context, id string) (Pool, error) {
	var p Pool
	_, err := s.get(ctx, kindPool, id, &p)
	return p, err
}

// Pool returns a pool of account, or ResourceNotFoundException.
func (s *Service) Pool(ctx context.Context, account, id string) (Pool, error) {
	var p Pool
	_, err := s.get(ctx, kindPool, id, &p)
	if errors.Is(err, store.ErrNotFound) || (err == nil && p.Account != account) {
		return Pool{}, cognitoErr(CodeNotFound, "User pool %s does not exist.", id)
	}
	return p, err
}

// ListPools pages through account's pools in id order.
func (s *Service) ListPools(ctx context.Context, account, after string, limit int) ([]Pool, string, error) {
	if limit < 1 || limit > 60 {
		return nil, "", InvalidParameter("MaxResults must be between 1 and 60.")
	}
	var out []Pool
	errFull := errors.New("full")
	next := ""
	err := s.listAll(ctx, kindPool, "", func(r store.Record) error {
		if r.Key <= after {
			return nil
		}
		var p Pool
		if decodeInto(r, &p) != nil || p.Account != account {
			return nil
		}
		if len(out) == limit {
			next = out[len(out)-1].ID
			return errFull
		}
		out = append(out, p)
		return nil
	})
	if err != nil && !errors.Is(err, errFull) {
		return nil, "", err
	}
	return out, next, nil
}

// DeletePool removes a pool and everything in it. The pool record goes
// first, so its public endpoints stop at once; codes, sessions and tokens
// expire on their own.
func (s *Service) DeletePool(ctx context.Context, account, id string) error {
	p, err := s.Pool(ctx, account, id)
	if err != nil {
		return err
	}
	if err := s.st.Delete(ctx, kindPool, storeAccount, id); err != nil {
		return notFoundAs(err, cognitoErr(CodeNotFound, "User pool %s does not exist.", id))
	}
	if p.Domain != "" {
		_ = s.st.Delete(ctx, kindDomain, storeAccount, p.Domain)
	}
	var keys [][2]string
	collect := func(kind string) func(store.Record) error {
		return func(r store.Record) error { keys = append(keys, [2]string{kind, r.Key}); return nil }
	}
	for _, kind := range []string{kindUser, kindResource} {
		if err := s.listAll(ctx, kind, id+"/", collect(kind)); err != nil {
			return err
		}
	}
	err = s.listAll(ctx, kindClient, "", func(r store.Record) error {
		var c Client
		if decodeInto(r, &c) == nil && c.PoolID == id {
			keys = append(keys, [2]string{kindClient, r.Key})
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := s.st.Delete(ctx, k[0], storeAccount, k[1]); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	return nil
}

// CreateDomain gives a pool its (globally unique) domain prefix.
func (s *Service) CreateDomain(ctx context.Context, account, poolID, domain string) error {
	if !domainRE.MatchString(domain) {
		return InvalidParameter("Domain %q must be 1-63 lowercase letters, digits and hyphens.", domain)
	}
	if _, err := s.Pool(ctx, account, poolID); err != nil {
		return err
	}
	return s.st.InTx(ctx, func(tx store.Tx) error {
		d := Domain{Domain: domain, PoolID: poolID, Account: account, Created: s.now().UTC()}
		data, _ := jsonMarshal(d)
		if _, err := tx.Create(ctx, store.Record{Kind: kindDomain, Account: storeAccount, Key: domain, Data: data}, store.CreateOptions{}); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return InvalidParameter("Domain already associated with another user pool.")
			}
			return err
		}
		_, err := tx.Update(ctx, kindPool, storeAccount, poolID, func(cur store.Record) (store.Record, error) {
			var p Pool
			if err := decodeInto(cur, &p); err != nil {
				return cur, err
			}
			if p.Domain != "" {
				return cur, InvalidParameter("User pool %s already has a domain configured.", poolID)
			}
			p.Domain, p.Modified = domain, s.now().UTC()
			cur.Data, _ = jsonMarshal(p)
			return cur, nil
		})
		return err
	})
}

// DescribeDomain returns a domain; an unknown one is the zero Domain, as
// Cognito answers with an empty description.
func (s *Service) DescribeDomain(ctx context.Context, account, domain string) (Domain, error) {
	var d Domain
	_, err := s.get(ctx, kindDomain, domain, &d)
	if errors.Is(err, store.ErrNotFound) || (err == nil && d.Account != account) {
		return Domain{}, nil
	}
	return d, err
}

// DeleteDomain removes a pool's domain.
func (s *Service) DeleteDomain(ctx context.Context, account, poolID, domain string) error {
	d, err := s.DescribeDomain(ctx, account, domain)
	if err != nil {
		return err
	}
	if d.PoolID != poolID {
		return InvalidParameter("No such domain or user pool exists.")
	}
	return s.st.InTx(ctx, func(tx store.Tx) error {
		if err := tx.Delete(ctx, kindDomain, storeAccount, domain); err != nil {
			return err
		}
		_, err := tx.Update(ctx, kindPool, storeAccount, poolID, func(cur store.Record) (store.Record, error) {
			var p Pool
			if err := decodeInto(cur, &p); err != nil {
				return cur, err
			}
			p.Domain, p.Modified = "", s.now().UTC()
			cur.Data, _ = jsonMarshal(p)
			return cur, nil
		})
		return notFoundAs(err, nil)
	})
}

// CreateResourceServer adds custom scopes to a pool.
func (s *Service) CreateResourceServer(ctx context.Context, account string, rs ResourceServer) (ResourceServer, error) {
	if _, err := s.Pool(ctx, account, rs.PoolID); err != nil {
		return rs, err
	}
	if !identifierRE.MatchString(rs.Identifier) || rs.Name == "" {
		return rs, InvalidParameter("Identifier and Name are required; Identifier must be 1-256 printable characters.")
	}
	for _, sc := range rs.Scopes {
		if !scopeNameRE.MatchString(sc.Name) {
			return rs, InvalidParameter("Scope name %q is invalid.", sc.Name)
		}
	}
	err := s.create(ctx, kindResource, rs.PoolID+"/"+rs.Identifier, rs, 0)
	if errors.Is(err, store.ErrConflict) {
		return rs, InvalidParameter("%s already exists in user pool %s.", rs.Identifier, rs.PoolID)
	}
	return rs, err
}

// poolScopes lists the "<identifier>/<scope>" scopes of a pool.
func (s *Service) poolScopes(ctx context.Context, poolID string) ([]string, error) {
	var out []string
	err := s.listAll(ctx, kindResource, poolID+"/", func(r store.Record) error {
		var rs ResourceServer
		if err := decodeInto(r, &rs); err != nil {
			return err
		}
		for _, sc := range rs.Scopes {
			out = append(out, rs.Identifier+"/"+sc.Name)
		}
		return nil
	})
	return out, err
}

// notFoundAs maps store.ErrNotFound to repl (nil: success).
func notFoundAs(err error, repl *awserr.Error) error {
	if errors.Is(err, store.ErrNotFound) {
		if repl == nil {
			return nil
		}
		return repl
	}
	return err
}
