package signer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/agentcore-identity/agentcore/internal/store"
)

// Rotate retires the account's active keys now, activates the next ones
// and generates new next keys. If another replica rotates between our read
// and our write, its rotation stands and Rotate returns nil: either way the
// account has fresh keys. Tokens signed by a retired key stay verifiable
// until they expire.
func (s *Service) Rotate(ctx context.Context, account string) error {
	ks, err := s.load(ctx, account, true)
	if err != nil {
		return err
	}
	return s.rotateFrom(ctx, account, ks)
}

// rotateIfDue performs a scheduled rotation when the active key of any
// algorithm is older than RotateEvery. Only one request per process does
// the work; the others keep signing with the current, still valid key.
func (s *Service) rotateIfDue(ctx context.Context, account string, ks *keySet) (*keySet, error) {
	if !s.due(ks) {
		return ks, nil
	}
	s.mu.Lock()
	busy := s.rotating[account]
	s.rotating[account] = true
	s.mu.Unlock()
	if busy {
		return ks, nil
	}
	defer func() {
		s.mu.Lock()
		delete(s.rotating, account)
		s.mu.Unlock()
	}()
	if err := s.rotateFrom(ctx, account, ks); err != nil {
		return nil, err
	}
	return s.load(ctx, account, false)
}

func (s *Service) due(ks *keySet) bool {
	now := s.now()
	for _, k := range ks.active {
		if !now.Before(k.activatedAt.Add(s.rotateEvery)) {
			return true
		}
	}
	return false
}

// rotateFrom rotates the set read as ks. Keys are generated before taking
// the row lock (RSA generation is slow); the update then checks that the
// record is still at ks.version, the compare-and-swap that makes replicas
// rotate once.
func (s *Service) rotateFrom(ctx context.Context, account string, ks *keySet) error {
	var fresh []keyDoc
	for _, alg := range Algorithms() {
		k, err := s.generate(ctx, account, alg)
		if err != nil {
			return err
		}
		fresh = append(fresh, k)
	}
	now := s.now().UTC()
	_, err := s.store.Update(ctx, Kind, account, s.set, func(cur store.Record) (store.Record, error) {
		if cur.Version != ks.version {
			return cur, errRaced
		}
		data, err := marshalDoc(rotate(ks.doc, fresh, now, now.Add(s.retention)))
		if err != nil {
			return cur, err
		}
		cur.Data = data
		return cur, nil
	})
	if errors.Is(err, errRaced) {
		s.log.Debug("signing key rotation lost the race", slog.String("account", account))
		return nil
	}
	if err != nil {
		return fmt.Errorf("rotate signing keys: %w", err)
	}
	s.log.Info("rotated signing keys", slog.String("account", account), slog.String("set", s.set))
	return nil
}

func marshalDoc(doc setDoc) ([]byte, error) {
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("encode signing keys: %w", err)
	}
	return b, nil
}

func unmarshalDoc(data []byte) (setDoc, error) {
	var doc setDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		return setDoc{}, fmt.Errorf("decode signing keys: %w", err)
	}
	return doc, nil
}
