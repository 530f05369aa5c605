// Package archtest checks the layout rules of the repository by machine:
// every package documents itself, the public SDK imports nothing internal,
// production code never imports the testing package, and no package grows
// into a monolith.
package archtest

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/agentcore-identity/agentcore"

// testSupport are packages whose job is to help tests; they may import
// "testing" in non-test files.
var testSupport = map[string]bool{
	"internal/servertest":            true,
	"internal/store/storetest":       true,
	"internal/store/postgres/pgtest": true,
	"internal/seal/sealtest":         true,
	"internal/oidctest":              true,
}

// maxPackageLines bounds the lines of code (not blank, not only a comment)
// in the non-test files of one package: documentation does not count
// against a package, size of logic does.
const maxPackageLines = 1500

type pkg struct {
	dir       string // relative to the repo root
	files     []string
	hasDoc    bool
	lines     int
	importsOf map[string][]string // file -> imports
}

func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		t.Fatalf("repo root not found at %s", dir)
	}
	return dir
}

func loadPackages(t *testing.T, root string) map[string]*pkg {
	t.Helper()
	pkgs := map[string]*pkg{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", "node_modules", "testdata", "vendor":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		p := pkgs[rel]
		if p == nil {
			p = &pkg{dir: filepath.ToSlash(rel), importsOf: map[string][]string{}}
			pkgs[rel] = p
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		f, err := parser.ParseFile(fset, path, src, parser.ParseComments|parser.ImportsOnly)
		if err != nil {
			return err
		}
		p.files = append(p.files, path)
		p.lines += codeLines(string(src))
		if f.Doc != nil && strings.TrimSpace(f.Doc.Text()) != "" {
			p.hasDoc = true
		}
		for _, imp := range f.Imports {
			v, _ := strconv.Unquote(imp.Path.Value)
			p.importsOf[path] = append(p.importsOf[path], v)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return pkgs
}

// codeLines counts lines that are neither blank nor only a // comment.
func codeLines(src string) int {
	n := 0
	for line := range strings.SplitSeq(src, "\n") {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "//") {
			n++
		}
	}
	return n
}

func TestLayoutRules(t *testing.T) {
	root := repoRoot(t)
	pkgs := loadPackages(t, root)
	if len(pkgs) < 10 {
		t.Fatalf("found only %d packages under %s: the walk is broken", len(pkgs), root)
	}
	for _, p := range pkgs {
		if !p.hasDoc {
			t.Errorf("%s: no package doc comment", p.dir)
		}
		if p.lines > maxPackageLines {
			t.Errorf("%s: %d lines of code (limit %d): split it by job", p.dir, p.lines, maxPackageLines)
		}
		for file, imports := range p.importsOf {
			rel, _ := filepath.Rel(root, file)
			for _, imp := range imports {
				// bench/ is tooling that drives test-support packages
				// (servertest, oidctest); it is never shipped.
				if imp == "testing" && !testSupport[p.dir] && !strings.HasPrefix(p.dir, "bench") {
					t.Errorf("%s imports \"testing\" in production code", rel)
				}
				if strings.HasPrefix(p.dir, "sdk") && strings.HasPrefix(imp, module+"/internal") {
					t.Errorf("%s: the public SDK imports %s", rel, imp)
				}
			}
		}
	}
}
