package seal_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agentcore-identity/agentcore/internal/seal"
	"github.com/agentcore-identity/agentcore/internal/seal/sealtest"
)

var _ seal.Sealer = (*seal.Keyring)(nil)
var _ seal.KEKProvider = (*seal.LocalKEK)(nil)

func testAAD() []byte { return seal.AAD("credential", "123456789012", "key-1", "secret") }

func newTestKEK(t *testing.T) *seal.LocalKEK {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kek.json")
	if err := seal.GenerateKeyFile(path); err != nil {
		t.Fatal(err)
	}
	kek, err := seal.LoadLocalKEK(path)
	if err != nil {
		t.Fatal(err)
	}
	return kek
}

func TestLocalKEKConformance(t *testing.T) {
	sealtest.RunKEK(t, func(t *testing.T) seal.KEKProvider { return newTestKEK(t) })
}

func TestEnvKEKConformance(t *testing.T) {
	sealtest.RunKEK(t, func(t *testing.T) seal.KEKProvider {
		kek, err := seal.ParseKEKEnv(base64.StdEncoding.EncodeToString(randKey(t)))
		if err != nil {
			t.Fatal(err)
		}
		return kek
	})
}

func TestKeyringConformance(t *testing.T) {
	sealtest.RunSealer(t, seal.New(newTestKEK(t)))
}

// goldenEnvelope was sealed by the v1 format under goldenKEK; it must keep
// opening, or envelopes already stored in databases become unreadable.
const goldenEnvelope = "53011c6b656b2d326636633163663737656637656437653337366634336338003cfe64832083ed650cce69c116f44650936cf2c6c7492ed2f9dd91641d041f75d9bd52441375588d6e9d93cef50d619e4435ae9b495adaad7b6f33f5d03caa46316ea985abe8fba104c8464db5f5b1b2a5f0e92a9e9780802cf0d0f1cfdce38b41b21588e925"

func goldenKeyring(t testing.TB) *seal.Keyring {
	t.Helper()
	key := make([]byte, seal.KEKSize)
	for i := range key {
		key[i] = byte(i)
	}
	id := seal.KEKID(key)
	if id != "kek-2f6c1cf77ef7ed7e376f43c8" {
		t.Fatalf("KEKID derivation changed: %s", id)
	}
	kek, err := seal.NewLocalKEK(map[string][]byte{id: key}, id)
	if err != nil {
		t.Fatal(err)
	}
	return seal.New(kek)
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestGoldenEnvelopeV1(t *testing.T) {
	k := goldenKeyring(t)
	env := mustHex(t, goldenEnvelope)
	got, err := k.Open(context.Background(), env, testAAD())
	if err != nil {
		t.Fatalf("golden envelope no longer opens: %v", err)
	}
	if string(got) != "golden secret" {
		t.Fatalf("golden plaintext = %q", got)
	}
	if id, err := seal.KeyID(env); err != nil || id != "kek-2f6c1cf77ef7ed7e376f43c8" {
		t.Fatalf("KeyID = %q, %v", id, err)
	}
	if env[0] != 'S' || env[1] != 1 {
		t.Fatalf("magic/version = %x %x", env[0], env[1])
	}
}

func TestKeyFilePermissions(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "kek.json")
	if err := seal.GenerateKeyFile(path); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Fatalf("key file mode = %04o, want 0600", perm)
	}

	// The file is human-inspectable JSON with one current key.
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var kf struct {
		Format  string            `json:"format"`
		Current string            `json:"current"`
		Keys    map[string]string `json:"keys"`
	}
	if err := json.Unmarshal(raw, &kf); err != nil {
		t.Fatalf("key file is not JSON: %v", err)
	}
	if _, ok := kf.Keys[kf.Current]; !ok || len(kf.Keys) != 1 {
		t.Fatalf("key file = %+v", kf)
	}

	if err := seal.GenerateKeyFile(path); err == nil || !errors.Is(err, os.ErrExist) {
		t.Fatalf("GenerateKeyFile over an existing file: err = %v, want ErrExist", err)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(after, raw) {
		t.Fatal("refused GenerateKeyFile still changed the file")
	}

	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o660} {
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		_, err := seal.LoadLocalKEK(path)
		if err == nil || !strings.Contains(err.Error(), "chmod 600") {
			t.Fatalf("mode %04o: LoadLocalKEK err = %v, want a refusal naming chmod 600", mode, err)
		}
	}
	if err := os.Chmod(path, 0o400); err != nil {
		t.Fatal(err)
	}
	if _, err := seal.LoadLocalKEK(path); err != nil {
		t.Fatalf("mode 0400 should load: %v", err)
	}
}

func TestLoadLocalKEKRejectsBadFiles(t *testing.T) {
	dir := t.TempDir()
	key := base64.StdEncoding.EncodeToString(make([]byte, 32))
	for name, body := range map[string]string{
		"not-json":        "nope",
		"wrong-format":    `{"format":"x","current":"a","keys":{"a":"` + key + `"}}`,
		"missing-current": `{"format":"agentcore-seal-kek/v1","current":"b","keys":{"a":"` + key + `"}}`,
		"short-key":       `{"format":"agentcore-seal-kek/v1","current":"a","keys":{"a":"AAAA"}}`,
		"bad-base64":      `{"format":"agentcore-seal-kek/v1","current":"a","keys":{"a":"!!"}}`,
		"unknown-field":   `{"format":"agentcore-seal-kek/v1","current":"a","keys":{"a":"` + key + `"},"x":1}`,
	} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := seal.LoadLocalKEK(path); err == nil {
			t.Errorf("%s: LoadLocalKEK succeeded", name)
		}
	}
	if _, err := seal.LoadLocalKEK(filepath.Join(dir, "absent")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("absent file: err = %v", err)
	}
}

func TestRotateKeyFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "kek.json")
	if err := seal.GenerateKeyFile(path); err != nil {
		t.Fatal(err)
	}
	kek1, err := seal.LoadLocalKEK(path)
	if err != nil {
		t.Fatal(err)
	}
	k1 := seal.New(kek1)
	old, err := k1.Seal(ctx, []byte("before rotation"), testAAD())
	if err != nil {
		t.Fatal(err)
	}
	if k1.NeedsRewrap(old) {
		t.Fatal("fresh envelope reported as needing rewrap")
	}

	newID, err := seal.RotateKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if newID == kek1.KeyID() {
		t.Fatal("rotation kept the same key id")
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("rotated file mode: %v %v", fi.Mode(), err)
	}
	if m, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*tmp*")); len(m) != 0 {
		t.Fatalf("temporary files left behind: %v", m)
	}

	kek2, err := seal.LoadLocalKEK(path)
	if err != nil {
		t.Fatal(err)
	}
	if kek2.KeyID() != newID {
		t.Fatalf("current after rotation = %q, want %q", kek2.KeyID(), newID)
	}
	if ids := kek2.KeyIDs(); len(ids) != 2 {
		t.Fatalf("KeyIDs after rotation = %v, want old and new", ids)
	}
	k2 := seal.New(kek2)
	got, err := k2.Open(ctx, old, testAAD())
	if err != nil || string(got) != "before rotation" {
		t.Fatalf("pre-rotation envelope after reload: %q, %v", got, err)
	}
	if !k2.NeedsRewrap(old) {
		t.Fatal("pre-rotation envelope should need rewrap")
	}

	// Rewrap = open and re-seal; the result is under the new key.
	resealed, err := k2.Seal(ctx, got, testAAD())
	if err != nil {
		t.Fatal(err)
	}
	if k2.NeedsRewrap(resealed) {
		t.Fatal("re-sealed envelope still needs rewrap")
	}
	if id, _ := seal.KeyID(resealed); id != newID {
		t.Fatalf("re-sealed under %q, want %q", id, newID)
	}
	if !k2.NeedsRewrap([]byte("garbage")) {
		t.Fatal("unparseable envelope should be reported for rewrap")
	}
}

func TestParseKEKEnv(t *testing.T) {
	a, b := randKey(t), randKey(t)
	enc := func(k []byte) string { return base64.StdEncoding.EncodeToString(k) }

	kek, err := seal.ParseKEKEnv(" " + enc(a) + " , " + base64.RawURLEncoding.EncodeToString(b))
	if err != nil {
		t.Fatal(err)
	}
	if kek.KeyID() != seal.KEKID(a) {
		t.Fatalf("current = %q, want id of first key %q", kek.KeyID(), seal.KEKID(a))
	}
	if len(kek.KeyIDs()) != 2 {
		t.Fatalf("KeyIDs = %v", kek.KeyIDs())
	}

	// An envelope sealed under the retired key b opens with the env form.
	bOnly, err := seal.ParseKEKEnv(enc(b))
	if err != nil {
		t.Fatal(err)
	}
	env, err := seal.New(bOnly).Seal(context.Background(), []byte("x"), testAAD())
	if err != nil {
		t.Fatal(err)
	}
	if got, err := seal.New(kek).Open(context.Background(), env, testAAD()); err != nil || string(got) != "x" {
		t.Fatalf("open under retired env key: %q %v", got, err)
	}

	secret := enc(make([]byte, 31))
	for _, bad := range []string{"", " , ", "not base64!", secret, enc(make([]byte, 33))} {
		_, err := seal.ParseKEKEnv(bad)
		if err == nil {
			t.Errorf("ParseKEKEnv(%q) succeeded", bad)
			continue
		}
		if bad == secret && strings.Contains(err.Error(), bad) {
			t.Errorf("error leaks key material: %v", err)
		}
	}
}

func TestNewLocalKEKValidation(t *testing.T) {
	k := randKey(t)
	cases := map[string]struct {
		keys    map[string][]byte
		current string
	}{
		"no-keys":         {map[string][]byte{}, "a"},
		"missing-current": {map[string][]byte{"a": k}, "b"},
		"short":           {map[string][]byte{"a": k[:16]}, "a"},
		"empty-id":        {map[string][]byte{"": k}, ""},
		"long-id":         {map[string][]byte{strings.Repeat("x", 256): k}, strings.Repeat("x", 256)},
	}
	for name, c := range cases {
		if _, err := seal.NewLocalKEK(c.keys, c.current); err == nil {
			t.Errorf("%s: NewLocalKEK succeeded", name)
		}
	}
}

// flakyKEK simulates a remote KMS that is down on Unwrap.
type flakyKEK struct{ *seal.LocalKEK }

func (flakyKEK) Unwrap(context.Context, string, []byte, []byte) ([]byte, error) {
	return nil, errors.New("kms: connection refused")
}

func TestOpenPassesThroughProviderOutage(t *testing.T) {
	kek := newTestKEK(t)
	env, err := seal.New(kek).Seal(context.Background(), []byte("x"), testAAD())
	if err != nil {
		t.Fatal(err)
	}
	_, err = seal.New(flakyKEK{kek}).Open(context.Background(), env, testAAD())
	if err == nil || errors.Is(err, seal.ErrOpen) || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("outage error = %v; want it passed through without ErrOpen", err)
	}
}

func TestAADIsUnambiguous(t *testing.T) {
	if bytes.Equal(seal.AAD("ab", "c", "", ""), seal.AAD("a", "bc", "", "")) {
		t.Fatal("AAD parts are not separated")
	}
}

// FuzzOpen: Open never panics, every failure wraps ErrOpen, and only the
// exact golden bytes open. The golden envelope is a constant (not sealed at
// run time) so every fuzz worker process agrees on it.
func FuzzOpen(f *testing.F) {
	k := goldenKeyring(f)
	golden := mustHex(f, goldenEnvelope)
	f.Add(golden)
	f.Add([]byte{})
	f.Add([]byte{'S', 1})
	f.Add(golden[:len(golden)-1])
	f.Add(append(bytes.Clone(golden), 0))
	aad := testAAD()
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := k.Open(context.Background(), data, aad)
		if err != nil {
			if !errors.Is(err, seal.ErrOpen) {
				t.Fatalf("error does not wrap ErrOpen: %v", err)
			}
			return
		}
		if !bytes.Equal(data, golden) {
			t.Fatalf("non-golden input opened: %x", data)
		}
		if string(got) != "golden secret" {
			t.Fatalf("golden opened to %q", got)
		}
	})
}

func randKey(t *testing.T) []byte {
	t.Helper()
	k := make([]byte, seal.KEKSize)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}
