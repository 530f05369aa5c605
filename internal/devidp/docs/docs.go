// Package docs stores the built-in identity provider's records as JSON
// documents in the store. Pool ids, client ids and domains are globally
// unique, as in Cognito, and the public endpoints know only those; so
// every record lives under one store account and names its owner inside.
package docs

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/agentcore-identity/agentcore/internal/store"
)

// Account is the store account of every record of the identity provider.
const Account = "devidp"

// Get loads a record's document into v.
func Get(ctx context.Context, st store.Tx, kind, key string, v any) (store.Record, error) {
	rec, err := st.Get(ctx, kind, Account, key)
	if err != nil {
		return rec, err
	}
	return rec, Decode(rec, v)
}

// Create stores v as a new record; a non-zero expires makes it expire.
func Create(ctx context.Context, st store.Tx, kind, key string, v any, expires time.Time) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("devidp: encode %s: %w", kind, err)
	}
	_, err = st.Create(ctx, store.Record{Kind: kind, Account: Account, Key: key, Data: data, ExpiresAt: expires}, store.CreateOptions{})
	return err
}

// Update rewrites a record's document through fn, under the store's lock.
func Update[T any](ctx context.Context, st store.Tx, kind, key string, fn func(*T) error) (T, error) {
	var out T
	_, err := st.Update(ctx, kind, Account, key, func(cur store.Record) (store.Record, error) {
		var v T
		if err := Decode(cur, &v); err != nil {
			return cur, err
		}
		if err := fn(&v); err != nil {
			return cur, err
		}
		data, err := json.Marshal(v)
		if err != nil {
			return cur, fmt.Errorf("devidp: encode %s: %w", kind, err)
		}
		cur.Data, out = data, v
		return cur, nil
	})
	return out, err
}

// Delete removes a record.
func Delete(ctx context.Context, st store.Tx, kind, key string) error {
	return st.Delete(ctx, kind, Account, key)
}

// Walk calls fn for every record of kind whose key starts with prefix.
func Walk(ctx context.Context, st store.Tx, kind, prefix string, fn func(store.Record) error) error {
	after := ""
	for {
		page, err := st.List(ctx, kind, Account, store.ListOptions{Prefix: prefix, After: after, Limit: 500})
		if err != nil {
			return err
		}
		for _, r := range page.Records {
			if err := fn(r); err != nil {
				return err
			}
		}
		if page.Next == "" {
			return nil
		}
		after = page.Next
	}
}

// Decode unmarshals a record's document.
func Decode(r store.Record, v any) error {
	if err := json.Unmarshal(r.Data, v); err != nil {
		return fmt.Errorf("devidp: decode %s %q: %w", r.Kind, r.Key, err)
	}
	return nil
}
