package yamlconfig

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"gopkg.in/yaml.v3"
)

// ErrNoAgent means the file has no agent to act on.
var ErrNoAgent = errors.New("no agent configured in " + FileName)

// File is a loaded project file. Typed views are decoded from the node tree
// on demand, and changes are merged back into it, so unknown keys survive.
type File struct {
	Path string
	root *yaml.Node // the top-level mapping
}

// New returns an empty file that Save will create at path.
func New(path string) *File {
	return &File{Path: path, root: &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}}
}

// Load reads the file at path. A missing file is an error matching
// fs.ErrNotExist.
func Load(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f := New(path)
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		if doc.Content[0].Kind != yaml.MappingNode {
			return nil, fmt.Errorf("parse %s: top level is not a mapping", path)
		}
		f.root = doc.Content[0]
	}
	return f, nil
}

// LoadDir loads FileName from dir; ok is false when there is none.
func LoadDir(dir string) (f *File, ok bool, err error) {
	f, err = Load(filepath.Join(dir, FileName))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	return f, err == nil, err
}

// Save writes the file (0644, like the toolkit), atomically.
func (f *File) Save() error {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(f.root); err != nil {
		return fmt.Errorf("encode %s: %w", f.Path, err)
	}
	if err := enc.Close(); err != nil {
		return err
	}
	tmp := f.Path + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, f.Path)
}

// Config decodes the whole file.
func (f *File) Config() (*Config, error) {
	var c Config
	if err := f.root.Decode(&c); err != nil {
		return nil, fmt.Errorf("decode %s: %w", f.Path, err)
	}
	return &c, nil
}

// AgentNames lists the agents in file order.
func (f *File) AgentNames() []string {
	agents := lookup(f.root, "agents")
	if agents == nil || agents.Kind != yaml.MappingNode {
		return nil
	}
	var names []string
	for i := 0; i+1 < len(agents.Content); i += 2 {
		names = append(names, agents.Content[i].Value)
	}
	return names
}

// ResolveAgent picks the agent to act on: name if given, else
// default_agent, else the first agent, as the toolkit does.
func (f *File) ResolveAgent(name string) (string, error) {
	names := f.AgentNames()
	if name == "" {
		if d := lookup(f.root, "default_agent"); d != nil && d.Value != "" {
			name = d.Value
		} else if len(names) > 0 {
			name = names[0]
		}
	}
	if name == "" {
		return "", ErrNoAgent
	}
	for _, n := range names {
		if n == name {
			return name, nil
		}
	}
	sort.Strings(names)
	return "", fmt.Errorf("agent %q is not in %s (agents: %v)", name, FileName, names)
}

// Agent decodes agents.<name>; a missing agent is ErrNoAgent.
func (f *File) Agent(name string) (*Agent, error) {
	n := lookup(lookup(f.root, "agents"), name)
	if n == nil {
		return nil, fmt.Errorf("%w: %q", ErrNoAgent, name)
	}
	var a Agent
	if err := n.Decode(&a); err != nil {
		return nil, fmt.Errorf("decode agent %q: %w", name, err)
	}
	return &a, nil
}

// PutAgent merges a into agents.<name>: modelled keys are replaced, keys the
// model does not know are kept in place, and new keys are appended (unset
// ones are not added, so hand-written files stay small).
func (f *File) PutAgent(name string, a *Agent) error {
	var n yaml.Node
	if err := n.Encode(a); err != nil {
		return fmt.Errorf("encode agent %q: %w", name, err)
	}
	agents := ensureMapping(f.root, "agents")
	if cur := lookup(agents, name); cur != nil && cur.Kind == yaml.MappingNode {
		merge(cur, &n)
		return nil
	}
	setKey(agents, name, dropEmpty(&n))
	return nil
}

// UpdateAgent decodes agents.<name>, lets fn change it, and merges it back.
func (f *File) UpdateAgent(name string, fn func(*Agent) error) error {
	a, err := f.Agent(name)
	if err != nil {
		return err
	}
	if err := fn(a); err != nil {
		return err
	}
	return f.PutAgent(name, a)
}

// SetDefaultAgent sets default_agent.
func (f *File) SetDefaultAgent(name string) {
	setKey(f.root, "default_agent", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: name})
}

func lookup(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func setKey(m *yaml.Node, key string, v *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			old := m.Content[i+1]
			// Keep a comment written next to the old value.
			if v.LineComment == "" {
				v.LineComment = old.LineComment
			}
			m.Content[i+1] = v
			return
		}
	}
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, v)
}

func ensureMapping(m *yaml.Node, key string) *yaml.Node {
	if n := lookup(m, key); n != nil && n.Kind == yaml.MappingNode {
		return n
	}
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	setKey(m, key, n)
	return n
}

// merge copies src's keys into dst, recursing into mappings present on
// both sides; sequences and scalars are replaced whole.
func merge(dst, src *yaml.Node) {
	for i := 0; i+1 < len(src.Content); i += 2 {
		key, val := src.Content[i].Value, src.Content[i+1]
		cur := lookup(dst, key)
		switch {
		case cur == nil:
			if !isEmpty(val) {
				setKey(dst, key, dropEmpty(val))
			}
		case cur.Kind == yaml.MappingNode && val.Kind == yaml.MappingNode:
			merge(cur, val)
		default:
			setKey(dst, key, val)
		}
	}
}

// dropEmpty removes unset keys from a freshly encoded mapping.
func dropEmpty(n *yaml.Node) *yaml.Node {
	if n.Kind != yaml.MappingNode {
		return n
	}
	out := &yaml.Node{Kind: yaml.MappingNode, Tag: n.Tag, Style: n.Style}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if !isEmpty(n.Content[i+1]) {
			out.Content = append(out.Content, n.Content[i], dropEmpty(n.Content[i+1]))
		}
	}
	return out
}

func isEmpty(n *yaml.Node) bool {
	switch n.Kind {
	case yaml.ScalarNode:
		return n.Tag == "!!null"
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if !isEmpty(n.Content[i+1]) {
				return false
			}
		}
		return true
	case yaml.SequenceNode:
		return len(n.Content) == 0
	}
	return false
}
