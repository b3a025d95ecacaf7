package inspect

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNoBranchOnErrorText: server/ and cmd/ decide on errors with
// errors.Is and errors.As (ClassOf), never on their text: a condition,
// a switch tag or a strings.Contains/HasPrefix/HasSuffix/EqualFold/Index
// argument that calls .Error() fails this test.
func TestNoBranchOnErrorText(t *testing.T) {
	var bad []string
	for _, dir := range []string{"../server", "../cmd"} {
		err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				return err
			}
			flag := func(n ast.Node, why string) {
				if n != nil && callsError(n) {
					bad = append(bad, fset.Position(n.Pos()).String()+": "+why)
				}
			}
			ast.Inspect(f, func(n ast.Node) bool {
				switch x := n.(type) {
				case *ast.IfStmt:
					flag(x.Cond, "if on an error's text")
				case *ast.SwitchStmt:
					flag(x.Tag, "switch on an error's text")
				case *ast.CaseClause:
					for _, e := range x.List {
						flag(e, "case on an error's text")
					}
				case *ast.CallExpr:
					if sel, ok := x.Fun.(*ast.SelectorExpr); ok {
						if pkg, ok := sel.X.(*ast.Ident); ok && pkg.Name == "strings" && textTests[sel.Sel.Name] {
							for _, a := range x.Args {
								flag(a, "strings."+sel.Sel.Name+" on an error's text")
							}
						}
					}
				}
				return true
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, b := range bad {
		t.Error(b)
	}
}

var textTests = map[string]bool{"Contains": true, "HasPrefix": true, "HasSuffix": true, "EqualFold": true, "Index": true, "Cut": true, "CutPrefix": true}

// callsError reports whether n calls a method named Error with no
// arguments (err.Error(), e.Err.Error()).
func callsError(n ast.Node) bool {
	found := false
	ast.Inspect(n, func(m ast.Node) bool {
		if c, ok := m.(*ast.CallExpr); ok && len(c.Args) == 0 {
			if sel, ok := c.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "Error" {
				found = true
			}
		}
		return !found
	})
	return found
}
