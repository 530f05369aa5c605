package migrate

import (
	"testing"
	"testing/fstest"
)

func TestLoadOrdersByVersion(t *testing.T) {
	fsys := fstest.MapFS{
		"m/0010_later.sql": {Data: []byte("B")},
		"m/0002_first.sql": {Data: []byte("A")},
		"m/README.md":      {Data: []byte("ignored")},
	}
	got, err := Load(fsys, "m")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Version != 2 || got[0].SQL != "A" || got[1].Version != 10 || got[1].Name != "0010_later.sql" {
		t.Fatalf("Load = %+v", got)
	}
}

func TestLoadRejectsBadNames(t *testing.T) {
	cases := map[string]fstest.MapFS{
		"duplicate": {"m/1_a.sql": {}, "m/0001_b.sql": {}},
		"no number": {"m/init.sql": {}},
		"zero":      {"m/0_a.sql": {}},
		"not int":   {"m/x1_a.sql": {}},
		"empty":     {"m/notes.txt": {}},
	}
	for name, fsys := range cases {
		if _, err := Load(fsys, "m"); err == nil {
			t.Errorf("%s: Load succeeded, want error", name)
		}
	}
}
