package render

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"

	"github.com/nsinspect/nsinspect/inspect"
	"github.com/nsinspect/nsinspect/nsgraph"
)

// ErrNoDot is --svg without Graphviz's dot program.
var ErrNoDot = inspect.Wrap(inspect.ErrUnsupported, nil, "--svg needs Graphviz's dot program, which is not installed: apt-get install graphviz (or leave out --svg and render the DOT elsewhere)")

// CheckSVG says, before any work, whether --svg can be rendered here.
func CheckSVG() error {
	if _, err := exec.LookPath("dot"); err != nil {
		return ErrNoDot
	}
	return nil
}

// Graph prints g as DOT, or as SVG rendered by dot(1).
func Graph(w io.Writer, g *nsgraph.Graph, svg bool) error {
	if !svg {
		return g.WriteDOT(w)
	}
	path, err := exec.LookPath("dot")
	if err != nil {
		return ErrNoDot
	}
	var in, errb bytes.Buffer
	if err := g.WriteDOT(&in); err != nil {
		return err
	}
	dot := exec.Command(path, "-Tsvg")
	dot.Stdin, dot.Stdout, dot.Stderr = &in, w, &errb
	if err := dot.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return fmt.Errorf("dot -Tsvg failed (exit %d): %s", ee.ExitCode(), strings.TrimSpace(errb.String()))
		}
		return fmt.Errorf("running dot -Tsvg: %w", err)
	}
	return nil
}
