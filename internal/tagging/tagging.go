// Package tagging keeps resource tags, keyed by resource ARN, for every
// taggable resource (TagResource, UntagResource, ListTagsForResource and the
// tags member of Create operations).
package tagging

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"

	"github.com/agentcore-identity/agentcore/internal/arn"
	"github.com/agentcore-identity/agentcore/internal/awserr"
	"github.com/agentcore-identity/agentcore/internal/store"
	"github.com/agentcore-identity/agentcore/internal/validate"
)

// Kind is the store kind of tag records.
const Kind = "tags"

// MaxTags is the per-resource tag limit.
const MaxTags = 50

// ExistsFunc reports whether the resource name exists in an account.
type ExistsFunc func(ctx context.Context, account, name string) (bool, error)

// Service stores tags and resolves which ARNs are taggable.
type Service struct {
	store     store.Store
	resolvers map[string]ExistsFunc // ARN resource prefix -> existence check
}

// NewService builds a tagging service.
func NewService(st store.Store) *Service {
	return &Service{store: st, resolvers: map[string]ExistsFunc{}}
}

// Register makes resources whose ARN resource part starts with prefix
// taggable. Call at start-up only.
func (s *Service) Register(prefix string, exists ExistsFunc) {
	s.resolvers[prefix] = exists
}

// Set replaces the tags of resourceARN inside tx; nil or empty deletes them.
func (s *Service) Set(ctx context.Context, tx store.Tx, account, resourceARN string, tags map[string]string) error {
	if len(tags) == 0 {
		err := tx.Delete(ctx, Kind, account, resourceARN)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	}
	data, err := json.Marshal(tags)
	if err != nil {
		return err
	}
	_, err = tx.Update(ctx, Kind, account, resourceARN, func(cur store.Record) (store.Record, error) {
		cur.Data = data
		return cur, nil
	})
	if errors.Is(err, store.ErrNotFound) {
		_, err = tx.Create(ctx, store.Record{Kind: Kind, Account: account, Key: resourceARN, Data: data}, store.CreateOptions{})
	}
	return err
}

// resolve checks the ARN belongs to account and names an existing resource.
func (s *Service) resolve(ctx context.Context, account, resourceARN string) error {
	a, err := arn.Parse(resourceARN)
	if err != nil || a.Service != arn.Service {
		return awserr.Field(awserr.FieldError{Name: "resourceArn", Message: "Member must be a valid bedrock-agentcore resource ARN"})
	}
	if a.Account != account {
		return awserr.AccessDenied("The resource %s does not belong to your account.", resourceARN)
	}
	for prefix, exists := range s.resolvers {
		if name, ok := strings.CutPrefix(a.Resource, prefix); ok && name != "" {
			found, err := exists(ctx, account, name)
			if err != nil {
				return awserr.Internal(err)
			}
			if !found {
				return awserr.NotFound("Resource %s not found.", resourceARN)
			}
			return nil
		}
	}
	return awserr.NotFound("Resource %s not found.", resourceARN)
}

// List returns the tags of a resource.
func (s *Service) List(ctx context.Context, account, resourceARN string) (map[string]string, error) {
	if err := s.resolve(ctx, account, resourceARN); err != nil {
		return nil, err
	}
	rec, err := s.store.Get(ctx, Kind, account, resourceARN)
	if errors.Is(err, store.ErrNotFound) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, awserr.Internal(err)
	}
	tags := map[string]string{}
	if err := json.Unmarshal(rec.Data, &tags); err != nil {
		return nil, awserr.Internal(fmt.Errorf("decode tags of %s: %w", resourceARN, err))
	}
	return tags, nil
}

// Tag adds or overwrites tags on a resource.
func (s *Service) Tag(ctx context.Context, account, resourceARN string, add map[string]string) error {
	var v validate.Errors
	v.Required("tags", add != nil)
	v.Tags("tags", add)
	if err := v.Err(); err != nil {
		return err
	}
	return s.modify(ctx, account, resourceARN, func(tags map[string]string) error {
		maps.Copy(tags, add)
		if len(tags) > MaxTags {
			return awserr.Validation("A resource can have at most %d tags.", MaxTags)
		}
		return nil
	})
}

// Untag removes tag keys from a resource; absent keys are ignored.
func (s *Service) Untag(ctx context.Context, account, resourceARN string, keys []string) error {
	var v validate.Errors
	v.Count("tagKeys", len(keys), 1, MaxTags)
	if err := v.Err(); err != nil {
		return err
	}
	return s.modify(ctx, account, resourceARN, func(tags map[string]string) error {
		for _, k := range keys {
			delete(tags, k)
		}
		return nil
	})
}

func (s *Service) modify(ctx context.Context, account, resourceARN string, fn func(map[string]string) error) error {
	if err := s.resolve(ctx, account, resourceARN); err != nil {
		return err
	}
	err := s.store.InTx(ctx, func(tx store.Tx) error {
		tags := map[string]string{}
		rec, err := tx.Get(ctx, Kind, account, resourceARN)
		switch {
		case err == nil:
			if err := json.Unmarshal(rec.Data, &tags); err != nil {
				return fmt.Errorf("decode tags of %s: %w", resourceARN, err)
			}
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		if err := fn(tags); err != nil {
			return err
		}
		return s.Set(ctx, tx, account, resourceARN, tags)
	})
	if err != nil {
		return awserr.As(err)
	}
	return nil
}
