package kstruct

import (
	"sort"
	"strings"
)

// Names lists every named struct and union in the BTF, sorted.
func (s *Spec) Names() []string {
	if s.names != nil {
		return s.names
	}
	seen := map[string]bool{}
	for t, err := range s.spec.All() {
		if err != nil {
			break
		}
		if _, _, _, ok := composite(t); ok && t.TypeName() != "" {
			seen[t.TypeName()] = true
		}
	}
	s.names = make([]string, 0, len(seen))
	for n := range seen {
		s.names = append(s.names, n)
	}
	sort.Strings(s.names)
	return s.names
}

// closest returns up to n names near name: a case-insensitive match
// first, then names containing it or contained in it, then those at a
// small edit distance, each group by distance.
func (s *Spec) closest(name string, n int) []string {
	return Closest(name, s.Names(), n)
}

// Closest ranks candidates by how near they are to name and returns up to
// n of them; names farther than a third of their length are left out
// unless one contains the other.
func Closest(name string, candidates []string, n int) []string {
	type scored struct {
		name  string
		score int
	}
	key := strings.ToLower(name)
	var list []scored
	for _, c := range candidates {
		lc := strings.ToLower(c)
		d := levenshtein(key, lc)
		switch {
		case lc == key:
			d = -1000
		case key != "" && strings.Contains(lc, key):
			d -= 100 // a name that contains what was typed is the likeliest
		case strings.Contains(key, lc) && len(lc) >= 3:
			d -= 50
		case d*3 > len(key)+2:
			continue
		}
		list = append(list, scored{c, d})
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].score != list[j].score {
			return list[i].score < list[j].score
		}
		return list[i].name < list[j].name
	})
	out := []string{}
	for i := 0; i < len(list) && i < n; i++ {
		out = append(out, list[i].name)
	}
	return out
}

// levenshtein is the edit distance between a and b, by bytes.
func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
