package domain

import (
	"encoding/xml"
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode/utf8"
)

// SVG renders the machine as a standalone SVG state diagram, drawn from the same rows the
// handlers enforce (never a copy): states as boxes, the initial one entered from a start
// dot and the final ones with a double border; every move as a labelled arrow (move,
// roles, the timer or event that fires it, the money state it sets), a move that keeps
// the state as a loop and a return to the state before a dispute as a dashed arrow into
// a history mark (H).
//
// The layout is hand-made because no graph-layout library is at hand offline, and it only
// has to serve a handful of states: states are ranked in rows from the initial state
// (longest path over the moves that go forward, so a chain of work states reads top to
// bottom and skip moves go down, not up), final states sink to the last row, and states
// that one move leaves together (the paid states cancel, approve and dispute alike) are
// drawn inside one dashed frame with a single arrow per move. Labels are placed greedily
// along their arrows where they overlap neither a state nor another label. Everything is
// computed from the table in a fixed order, so the output is deterministic.
func (m Machine) SVG() string {
	l := layoutMachine(m)
	return l.render()
}

// SVGFile is the name of the machine's diagram beside docs/lifecycle.md.
func (m Machine) SVGFile() string { return "lifecycle-" + m.Name + ".svg" }

// Geometry of the drawing, in SVG user units (pixels at scale 1). Text is monospace so
// its width can be computed without a font engine.
const (
	svgStateFont  = 13.0
	svgLabelFont  = 11.0
	svgCharEm     = 0.61 // advance of a monospace character, in ems
	svgLineH      = 14.0
	svgNodeH      = 36.0
	svgNodeMinW   = 124.0
	svgRowGap     = 104.0
	svgColGap     = 140.0
	svgClusterPad = 16.0
	svgMemberGap  = 70.0
	svgLoopOut    = 46.0
	svgMargin     = 24.0
	svgFontFamily = "DejaVu Sans Mono, Menlo, Consolas, monospace, Noto Color Emoji, Segoe UI Symbol"
)

type svgPt struct{ X, Y float64 }

type svgRect struct{ X, Y, W, H float64 }

func (r svgRect) right() float64  { return r.X + r.W }
func (r svgRect) bottom() float64 { return r.Y + r.H }
func (r svgRect) cx() float64     { return r.X + r.W/2 }
func (r svgRect) cy() float64     { return r.Y + r.H/2 }

func (r svgRect) grow(d float64) svgRect { return svgRect{r.X - d, r.Y - d, r.W + 2*d, r.H + 2*d} }

func (r svgRect) contains(p svgPt) bool {
	return p.X >= r.X && p.X <= r.right() && p.Y >= r.Y && p.Y <= r.bottom()
}

// overlap is the area two rectangles share.
func (r svgRect) overlap(o svgRect) float64 {
	w := math.Min(r.right(), o.right()) - math.Max(r.X, o.X)
	h := math.Min(r.bottom(), o.bottom()) - math.Max(r.Y, o.Y)
	if w <= 0 || h <= 0 {
		return 0
	}
	return w * h
}

func (r svgRect) union(o svgRect) svgRect {
	x, y := math.Min(r.X, o.X), math.Min(r.Y, o.Y)
	return svgRect{x, y, math.Max(r.right(), o.right()) - x, math.Max(r.bottom(), o.bottom()) - y}
}

// textWidth estimates the width of s in the monospace font; the timer and event marks
// are drawn two cells wide by most fonts.
func textWidth(s string, size float64) float64 {
	n := utf8.RuneCountInString(s) + strings.Count(s, "⏱") + strings.Count(s, "⚡")
	return float64(n) * size * svgCharEm
}

func num(v float64) string {
	s := fmt.Sprintf("%.1f", v)
	s = strings.TrimSuffix(s, ".0")
	if s == "-0" {
		return "0"
	}
	return s
}

func pt(p svgPt) string { return num(p.X) + "," + num(p.Y) }

func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s)) // a strings.Builder does not fail
	return b.String()
}

func (l *svgLayout) render() string {
	// The legend under the diagram explains the marks.
	first := "● start · double border: final state"
	frames, history := false, false
	for _, u := range l.units {
		frames = frames || u.frame
	}
	for _, e := range l.edges {
		history = history || e.kind == edgeReturn
	}
	if frames {
		first += " · dashed frame: states a move leaves alike"
	}
	legend := []string{first, "⏱ timer (setting, default) · ⚡ event of another context · escrow → money state set"}
	if history {
		legend = append(legend, "dashed arrow (to H): back to the state it had before")
	}
	id := "lc-" + l.m.Name
	var bounds svgRect
	empty := true
	grow := func(r svgRect) {
		if empty {
			bounds, empty = r, false
			return
		}
		bounds = bounds.union(r)
	}
	for _, b := range l.boxes {
		grow(b.grow(6))
	}
	for _, lb := range l.labels {
		grow(lb.box)
	}
	for _, r := range l.lanes {
		grow(svgRect{X: r.X - 2, Y: r.Y, W: 4, H: r.H})
	}
	for _, e := range l.edges {
		if e.kind == edgeSelf {
			b := l.boxes[e.from]
			grow(svgRect{X: b.X - svgLoopOut, Y: b.Y, W: b.W + 2*svgLoopOut, H: b.H})
		}
	}
	if l.initial != "" {
		grow(svgRect{X: l.start.X - 8, Y: l.start.Y - 8, W: 16, H: 16})
	}
	title := "Lifecycle: " + l.m.Name
	titleY := bounds.Y - 14
	legendY := bounds.bottom() + 26
	legendW := 0.0
	for _, s := range legend {
		legendW = math.Max(legendW, textWidth(s, svgLabelFont))
	}
	grow(svgRect{X: bounds.cx() - legendW/2, Y: legendY - 12, W: legendW, H: float64(len(legend)) * svgLineH})
	grow(svgRect{X: bounds.X, Y: titleY - 16, W: textWidth(title, 15), H: 18})
	vb := bounds.grow(svgMargin)

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="%s %s %s %s" width="%s" height="%s" font-family="%s" data-machine="%s">`+"\n",
		num(vb.X), num(vb.Y), num(vb.W), num(vb.H), num(vb.W), num(vb.H), svgFontFamily, esc(l.m.Name))
	fmt.Fprintf(&b, "<title>%s</title>\n", esc(title+" (generated from services/marketplace/domain/lifecycle.go)"))
	fmt.Fprintf(&b, `<defs><marker id="%s-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#334"/></marker></defs>`+"\n", id)
	fmt.Fprintf(&b, `<rect x="%s" y="%s" width="%s" height="%s" fill="#fff"/>`+"\n", num(vb.X), num(vb.Y), num(vb.W), num(vb.H))
	fmt.Fprintf(&b, `<text x="%s" y="%s" font-size="15" font-weight="bold" fill="#223">%s</text>`+"\n", num(bounds.X), num(titleY), esc(title))

	for i, u := range l.units {
		if u.frame {
			fmt.Fprintf(&b, `<rect class="frame" data-frame="%d" x="%s" y="%s" width="%s" height="%s" rx="14" fill="#f7f9fc" stroke="#8a94a6" stroke-dasharray="6 4"/>`+"\n",
				i, num(u.box.X), num(u.box.Y), num(u.box.W), num(u.box.H))
		}
	}
	for _, e := range l.edges {
		dash := ""
		if e.kind == edgeReturn {
			dash = ` stroke-dasharray="6 4"`
		}
		fmt.Fprintf(&b, `<path class="move" data-moves="%s" d="%s" fill="none" stroke="#334" stroke-width="1.4"%s marker-end="url(#%s-arrow)"/>`+"\n",
			esc(moveNames(e.moves)), e.path, dash, id)
		if e.history {
			fmt.Fprintf(&b, `<circle cx="%s" cy="%s" r="9" fill="#fff" stroke="#334" stroke-width="1.4"/><text x="%s" y="%s" font-size="11" font-weight="bold" text-anchor="middle" fill="#334">H</text>`+"\n",
				num(e.end.X), num(e.end.Y), num(e.end.X), num(e.end.Y+4))
		}
	}
	if l.initial != "" {
		to := l.boxes[stateKey(l.initial)]
		fmt.Fprintf(&b, `<circle class="start" cx="%s" cy="%s" r="7" fill="#223"/>`+"\n", num(l.start.X), num(l.start.Y))
		fmt.Fprintf(&b, `<path class="move" data-moves="%s" d="M%s V%s" fill="none" stroke="#334" stroke-width="1.4" marker-end="url(#%s-arrow)"/>`+"\n",
			esc(moveNames(l.creates)), pt(svgPt{l.start.X, l.start.Y + 7}), num(to.Y), id)
	}
	for _, s := range l.m.States {
		r, ok := l.boxes[stateKey(s)]
		if !ok {
			continue
		}
		final, initial := slices.Contains(l.m.Final, s), s == l.initial
		kind := "state"
		fill, stroke, width := "#eaf1ff", "#3b64b8", "1.5"
		switch {
		case final:
			kind, fill, stroke = "state final", "#eef0f3", "#4a5261"
		case initial:
			kind, width = "state initial", "2.5"
		}
		fmt.Fprintf(&b, `<g class="%s" data-state="%s">`, kind, esc(s))
		if final {
			o := r.grow(4)
			fmt.Fprintf(&b, `<rect x="%s" y="%s" width="%s" height="%s" rx="11" fill="none" stroke="%s" stroke-width="1.2"/>`,
				num(o.X), num(o.Y), num(o.W), num(o.H), stroke)
		}
		fmt.Fprintf(&b, `<rect x="%s" y="%s" width="%s" height="%s" rx="8" fill="%s" stroke="%s" stroke-width="%s"/>`,
			num(r.X), num(r.Y), num(r.W), num(r.H), fill, stroke, width)
		fmt.Fprintf(&b, `<text x="%s" y="%s" font-size="%s" font-weight="bold" text-anchor="middle" fill="#1b2433">%s</text></g>`+"\n",
			num(r.cx()), num(r.cy()+4.5), num(svgStateFont), esc(s))
	}
	writeLabel := func(lb svgLabel, moves string) {
		fmt.Fprintf(&b, `<g class="label" data-moves="%s"><rect x="%s" y="%s" width="%s" height="%s" rx="3" fill="#fff" fill-opacity="0.9"/>`,
			esc(moves), num(lb.box.X), num(lb.box.Y), num(lb.box.W), num(lb.box.H))
		for i, s := range lb.lines {
			fill := "#1b2433"
			if strings.HasPrefix(s, "  ") || strings.HasPrefix(s, "↩") {
				fill = "#5b6474"
			}
			fmt.Fprintf(&b, `<text x="%s" y="%s" font-size="%s" fill="%s" xml:space="preserve">%s</text>`,
				num(lb.box.X+4), num(lb.box.Y+2+svgLineH*float64(i)+10.5), num(svgLabelFont), fill, esc(s))
		}
		b.WriteString("</g>\n")
	}
	if l.initial != "" {
		writeLabel(l.startLb, moveNames(l.creates))
	}
	for _, e := range l.edges {
		writeLabel(e.label, moveNames(e.moves))
	}
	for i, s := range legend {
		fmt.Fprintf(&b, `<text class="legend" x="%s" y="%s" font-size="%s" text-anchor="middle" fill="#5b6474">%s</text>`+"\n",
			num(bounds.cx()), num(legendY+svgLineH*float64(i)), num(svgLabelFont), esc(s))
	}
	b.WriteString("</svg>\n")
	return b.String()
}

func moveNames(ts []Transition) string {
	names := make([]string, len(ts))
	for i, t := range ts {
		names[i] = t.Move
	}
	return strings.Join(names, " ")
}
