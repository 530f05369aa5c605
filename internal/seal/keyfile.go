package seal

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// keyFileFormat tags key files so a future layout can be told apart.
const keyFileFormat = "agentcore-seal-kek/v1"

// keyFile is the on-disk JSON form: human-inspectable, and it keeps retired
// keys so envelopes sealed under them stay readable after a rotation.
//
//	{"format":"agentcore-seal-kek/v1","current":"kek-…","keys":{"kek-…":"<base64>"}}
type keyFile struct {
	Format  string            `json:"format"`
	Current string            `json:"current"`
	Keys    map[string]string `json:"keys"`
}

// GenerateKeyFile writes a new key file holding one fresh KEK, with mode
// 0600. It refuses to overwrite an existing file: losing a KEK loses every
// secret sealed under it.
func GenerateKeyFile(path string) error {
	kf, _, err := addNewKey(keyFile{Format: keyFileFormat, Keys: map[string]string{}})
	if err != nil {
		return err
	}
	data, err := encodeKeyFile(kf)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("seal: key file %s already exists; refusing to overwrite it: %w", path, err)
		}
		return fmt.Errorf("seal: create key file: %w", err)
	}
	if err := writeAndSync(f, data); err != nil {
		_ = os.Remove(path)
		return fmt.Errorf("seal: write key file %s: %w", path, err)
	}
	syncDir(filepath.Dir(path))
	return nil
}

// LoadLocalKEK reads a key file. Files readable or writable by group or
// others are refused, like ssh does with private keys.
func LoadLocalKEK(path string) (*LocalKEK, error) {
	kf, err := readKeyFile(path)
	if err != nil {
		return nil, err
	}
	return kf.provider()
}

// RotateKeyFile adds a fresh KEK to the key file and makes it current; older
// keys are kept for Unwrap. The file is replaced atomically (write to a
// temporary file, then rename). Concurrent rotations of the same file are
// not coordinated; rotation is an operator action.
func RotateKeyFile(path string) (newID string, err error) {
	kf, err := readKeyFile(path)
	if err != nil {
		return "", err
	}
	kf, newID, err = addNewKey(kf)
	if err != nil {
		return "", err
	}
	data, err := encodeKeyFile(kf)
	if err != nil {
		return "", err
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return "", fmt.Errorf("seal: rotate key file: %w", err)
	}
	defer func() {
		if err != nil {
			_ = os.Remove(tmp.Name())
		}
	}()
	// CreateTemp already uses 0600; Chmod makes that independent of it.
	if err = tmp.Chmod(0o600); err != nil {
		_ = tmp.Close()
		return "", fmt.Errorf("seal: rotate key file: %w", err)
	}
	if err = writeAndSync(tmp, data); err != nil {
		return "", fmt.Errorf("seal: rotate key file: %w", err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return "", fmt.Errorf("seal: rotate key file: %w", err)
	}
	syncDir(dir)
	return newID, nil
}

// ParseKEKEnv parses the environment form of local KEKs, for deployments
// where replicas cannot share a file: a comma-separated list of base64
// (standard or URL alphabet, padding optional) 32-byte keys, the first being
// current and the rest retired. Ids are derived with KEKID, so they match
// the ids a key file would give the same keys.
func ParseKEKEnv(s string) (*LocalKEK, error) {
	var current string
	keys := map[string][]byte{}
	for i, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		key, err := decodeKey(part)
		if err != nil {
			// The position, never the value: the value is key material.
			return nil, fmt.Errorf("seal: KEK env entry %d: %w", i+1, err)
		}
		id := KEKID(key)
		if current == "" {
			current = id
		}
		keys[id] = key
	}
	if current == "" {
		return nil, fmt.Errorf("seal: KEK env value is empty")
	}
	defer func() {
		for _, k := range keys {
			clear(k)
		}
	}()
	return NewLocalKEK(keys, current)
}

func readKeyFile(path string) (keyFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return keyFile{}, fmt.Errorf("seal: open key file: %w", err)
	}
	defer f.Close()
	// Stat the open file, not the path, so the checked file is the read one.
	fi, err := f.Stat()
	if err != nil {
		return keyFile{}, fmt.Errorf("seal: stat key file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return keyFile{}, fmt.Errorf("seal: key file %s is not a regular file", path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return keyFile{}, fmt.Errorf("seal: key file %s has mode %04o and is accessible by group or others; run: chmod 600 %s", path, perm, path)
	}
	data, err := io.ReadAll(io.LimitReader(f, 1<<20))
	if err != nil {
		return keyFile{}, fmt.Errorf("seal: read key file: %w", err)
	}
	var kf keyFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&kf); err != nil {
		return keyFile{}, fmt.Errorf("seal: parse key file %s: %w", path, err)
	}
	if kf.Format != keyFileFormat {
		return keyFile{}, fmt.Errorf("seal: key file %s: unsupported format %q, want %q", path, kf.Format, keyFileFormat)
	}
	if _, err := kf.provider(); err != nil {
		return keyFile{}, fmt.Errorf("seal: key file %s: %w", path, err)
	}
	return kf, nil
}

func (kf keyFile) provider() (*LocalKEK, error) {
	keys := make(map[string][]byte, len(kf.Keys))
	defer func() {
		for _, k := range keys {
			clear(k)
		}
	}()
	for id, enc := range kf.Keys {
		key, err := base64.StdEncoding.DecodeString(enc)
		if err != nil {
			return nil, fmt.Errorf("key %q is not valid base64", id)
		}
		keys[id] = key
	}
	return NewLocalKEK(keys, kf.Current)
}

// addNewKey returns a copy of kf with a fresh current key added.
func addNewKey(kf keyFile) (keyFile, string, error) {
	key := make([]byte, KEKSize)
	defer clear(key)
	if _, err := rand.Read(key); err != nil {
		return keyFile{}, "", fmt.Errorf("seal: generate KEK: %w", err)
	}
	id := KEKID(key)
	if _, dup := kf.Keys[id]; dup {
		return keyFile{}, "", fmt.Errorf("seal: generated KEK id %q already present", id)
	}
	keys := make(map[string]string, len(kf.Keys)+1)
	for k, v := range kf.Keys {
		keys[k] = v
	}
	keys[id] = base64.StdEncoding.EncodeToString(key)
	return keyFile{Format: keyFileFormat, Current: id, Keys: keys}, id, nil
}

func encodeKeyFile(kf keyFile) ([]byte, error) {
	data, err := json.MarshalIndent(kf, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("seal: encode key file: %w", err)
	}
	return append(data, '\n'), nil
}

func decodeKey(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{
		base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding,
	} {
		if key, err := enc.DecodeString(s); err == nil {
			if len(key) != KEKSize {
				clear(key)
				return nil, fmt.Errorf("key decodes to %d bytes, want %d", len(key), KEKSize)
			}
			return key, nil
		}
	}
	return nil, fmt.Errorf("key is not valid base64")
}

func writeAndSync(f *os.File, data []byte) error {
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// syncDir makes a create or rename durable. It is best effort: the file
// itself is already synced, and some platforms cannot fsync a directory.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}
