package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"
)

func init() {
	register(&cobra.Command{
		Use:   "hold",
		Short: "Park this process until SIGTERM or SIGINT, keeping its namespaces alive",
	}, newHoldCmd)
}

func newHoldCmd() *cobra.Command {
	var (
		readyFile string
		quiet     bool
	)
	c := &cobra.Command{
		Long: `hold does nothing until it receives SIGTERM or SIGINT, then exits 0. It keeps
the namespaces it runs in alive for inspection, and lets the nsinspect image
serve as a long-running test container ('docker run -d nsinspect hold';
'docker stop' ends it at once, as SIGTERM is handled even as PID 1).

Once its signal handlers are installed it prints its PID (as its own PID
namespace numbers it) on stdout, unless --quiet, and writes the same line to
--ready-file, created by rename so a reader never sees it half-written. As
PID 1 of a PID namespace it also reaps orphans, as an init must.`,
		Example: `  nsinspect hold --ready-file /run/hold.pid &
  docker run -d --rm --name probe nsinspect hold`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(c *cobra.Command, _ []string) error {
			return runHold(c.OutOrStdout(), readyFile, quiet)
		},
	}
	c.Flags().StringVar(&readyFile, "ready-file", "", "write the PID to this file once signals are handled")
	c.Flags().BoolVarP(&quiet, "quiet", "q", false, "do not print the PID")
	return c
}

func runHold(stdout io.Writer, readyFile string, quiet bool) error {
	sigs := make(chan os.Signal, 8)
	// Registered before the PID is announced: whoever reads the
	// announcement may signal at once. PID 1 ignores every signal it has
	// no handler for, so without this 'docker stop' would wait for SIGKILL.
	signal.Notify(sigs, unix.SIGTERM, unix.SIGINT, unix.SIGCHLD)
	defer signal.Stop(sigs)
	line := strconv.Itoa(os.Getpid()) + "\n"
	if readyFile != "" {
		if err := writeAtomic(readyFile, line); err != nil {
			return usageErrorf("--ready-file: %v (give a path in a writable directory)", err)
		}
	}
	if !quiet {
		if _, err := io.WriteString(stdout, line); err != nil {
			return fmt.Errorf("printing the PID: %w", err)
		}
	}
	for s := range sigs {
		if s == unix.SIGCHLD {
			reapOrphans()
			continue
		}
		return nil
	}
	return nil
}

// reapOrphans collects exited children. hold starts none itself, but as
// PID 1 it inherits every orphan of its PID namespace (a 'docker exec'
// whose parent died), which would otherwise stay zombies.
func reapOrphans() {
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if pid <= 0 || err != nil {
			return
		}
	}
}

// writeAtomic writes s to a temporary file beside path and renames it
// into place.
func writeAtomic(path, s string) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	_, werr := f.WriteString(s)
	cerr := f.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(f.Name(), path)
	}
	if werr != nil {
		os.Remove(f.Name())
	}
	return werr
}
