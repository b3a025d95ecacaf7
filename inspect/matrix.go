package inspect

import (
	"github.com/nsinspect/nsinspect/clone/report"
	"github.com/nsinspect/nsinspect/schema"
)

// Matrix is `matrix --json`: every experiment, and how many
// verdicts disagree with clone(2).
type Matrix struct {
	SchemaVersion schema.Version `json:"schema_version"`
	Experiments   []MatrixRow    `json:"experiments"`
	Disagreements int            `json:"disagreements"`
}

// MatrixRow is one experiment of the truth table, as --json prints it.
type MatrixRow struct {
	Flags         []string     `json:"flags"`
	Value         uint64       `json:"value"`
	Syscall       string       `json:"syscall"`
	Errno         *string      `json:"errno"`
	Explanation   []string     `json:"explanation,omitempty"`
	Resources     []MatrixCell `json:"resources,omitempty"` // compare's resources, in its order
	Disagreements []string     `json:"disagreements"`
}

// MatrixCell is one resource of one experiment in --json.
type MatrixCell struct {
	Name     string `json:"name"`
	Expected bool   `json:"expected"`
	Shared   *bool  `json:"shared"`
	Probe    *bool  `json:"probe,omitempty"`
}

func toRow(r *report.Clone) MatrixRow {
	row := MatrixRow{Flags: r.Flags, Value: r.Value, Syscall: r.Syscall, Errno: r.Errno, Explanation: r.Explanation, Disagreements: r.Disagreements}
	if r.Errno == nil {
		row.Resources = []MatrixCell{}
		for _, res := range r.Resources {
			row.Resources = append(row.Resources, MatrixCell{Name: res.Name, Expected: res.Expected, Shared: res.Shared, Probe: res.Probe})
		}
	}
	return row
}

// MatrixOf is the truth table of a run's reports, counting the verdicts
// that disagree with clone(2).
func MatrixOf(reps []*report.Clone) Matrix {
	rows := make([]MatrixRow, len(reps))
	bad := 0
	for i, r := range reps {
		rows[i] = toRow(r)
		bad += len(r.Disagreements)
	}
	return Matrix{Experiments: rows, Disagreements: bad}
}

// Outcome is exit 1 when a verdict disagrees with clone(2).
func (m Matrix) Outcome() error {
	if m.Disagreements > 0 {
		return Assertionf("%d verdict(s) disagree with clone(2)", m.Disagreements)
	}
	return nil
}
