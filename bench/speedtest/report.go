package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
)

// spread is the median, the minimum and the maximum of a figure over the runs.
type spread struct{ median, min, max float64 }

func spreadOf(values []float64) spread {
	s := slices.Clone(values)
	slices.Sort(s)
	n := len(s)
	if n == 0 {
		return spread{}
	}
	m := s[n/2]
	if n%2 == 0 {
		m = (s[n/2-1] + s[n/2]) / 2
	}
	return spread{median: m, min: s[0], max: s[n-1]}
}

func (s spread) String() string { return fmt.Sprintf("%.0f (%.0f-%.0f)", s.median, s.min, s.max) }

// summary is what the runs of one page and variant measured.
type summary struct {
	fcp, lcp, load, kb, hinted spread
	double                     int // resources fetched twice, over all runs
	runs                       int
}

func summarize(runs []figures) summary {
	pick := func(f func(figures) float64) spread {
		values := make([]float64, len(runs))
		for i, r := range runs {
			values[i] = f(r)
		}
		return spreadOf(values)
	}
	s := summary{
		fcp:    pick(func(f figures) float64 { return f.FCP }),
		lcp:    pick(func(f figures) float64 { return f.LCP }),
		load:   pick(func(f figures) float64 { return f.Load }),
		kb:     pick(func(f figures) float64 { return float64(f.bytes) / 1024 }),
		hinted: pick(func(f figures) float64 { return float64(f.Hinted) }),
		runs:   len(runs),
	}
	for _, r := range runs {
		s.double += r.double
	}
	return s
}

// ratio is a variant's median over the median without netjet, as "x0.71".
func ratio(v, none float64) string {
	if none <= 0 {
		return "x-"
	}
	return fmt.Sprintf("x%.2f", v/none)
}

// results holds the figures of every run, by page and variant.
type results map[string]map[string][]figures

func (r results) add(pageName, variantName string, f figures) {
	if r[pageName] == nil {
		r[pageName] = map[string][]figures{}
	}
	r[pageName][variantName] = append(r[pageName][variantName], f)
}

// writeTable writes one row per page and variant: the medians with their minimum and
// maximum, the kilobytes the link carried, the resources fetched twice (over all runs), how
// many resources came from Early Hints, and the ratios to the same page without netjet.
func writeTable(w io.Writer, r results, pages []*page, variants []variant) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "page\tvariant\truns\tFCP ms\tLCP ms\tload ms\tKB\ttwice\thinted\tFCP\tLCP\tload")
	for _, p := range pages {
		none := summarize(r[p.name]["none"])
		for _, v := range variants {
			s := summarize(r[p.name][v.name])
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%.0f\t%d\t%.0f\t%s\t%s\t%s\n",
				p.name, v.name, s.runs, s.fcp, s.lcp, s.load, s.kb.median, s.double, s.hinted.median,
				ratio(s.fcp.median, none.fcp.median), ratio(s.lcp.median, none.lcp.median),
				ratio(s.load.median, none.load.median))
		}
	}
	return tw.Flush()
}

// summaryLines are the lines speedtest ends with, one per page and variant, such as
// "summary: demo early-hints FCP x0.87 LCP x0.87": how the variant's medians compare with
// the same page's without netjet, in a form scripts can read.
func summaryLines(r results, pages []*page, variants []variant) []string {
	var lines []string
	for _, p := range pages {
		none := summarize(r[p.name]["none"])
		for _, v := range variants {
			s := summarize(r[p.name][v.name])
			lines = append(lines, strings.Join([]string{"summary:", p.name, v.name,
				"FCP", ratio(s.fcp.median, none.fcp.median),
				"LCP", ratio(s.lcp.median, none.lcp.median)}, " "))
		}
	}
	return lines
}
