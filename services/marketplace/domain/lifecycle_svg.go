package domain

import (
	"encoding/xml"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"
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
	svgFontFamily = "DejaVu Sans Mono, Menlo, Consolas, monospace"
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

// svgUnit is what the rows lay out: one state, or the frame around the states one move
// leaves together.
type svgUnit struct {
	states []string
	frame  bool
	box    svgRect
	rank   int
}

type edgeKind int

const (
	edgeForward edgeKind = iota // to a later row (or a later state inside a frame)
	edgeBack                    // to an earlier row
	edgeSide                    // to another unit of the same row
	edgeSelf                    // the move keeps the state
	edgeReturn                  // ToPrevio: back to the state the job had
)

// svgEdge is one arrow: the moves drawn between the same two boxes.
type svgEdge struct {
	from, to string // box keys: "s:STATE" or "f:N" (a frame)
	kind     edgeKind
	moves    []Transition
	history  bool // ends in a history mark on a frame
	lane     bool // routed around the rows in between
	laneX    float64

	samples []svgPt // points along the drawn arrow, which labels keep off

	path    string
	end     svgPt
	anchors []svgSpot
	label   svgLabel
}

// svgSpot is a place a label may go: at P, to its right (or left when left is set), or
// centred on it (on the arrow itself, which then runs under it).
type svgSpot struct {
	P      svgPt
	left   bool
	center bool
}

type svgLabel struct {
	lines []string
	box   svgRect
}

type svgLayout struct {
	m       Machine
	initial string
	creates []Transition
	units   []*svgUnit
	unitOf  map[string]int // state → unit
	boxes   map[string]svgRect
	edges   []*svgEdge
	start   svgPt
	startLb svgLabel
	labels  []*svgLabel // placed so far, for collisions
	lanes   []svgRect   // the vertical runs of routed arrows with their labels
}

func stateKey(s string) string { return "s:" + s }
func frameKey(i int) string    { return fmt.Sprintf("f:%d", i) }

// layoutMachine computes every position of m's diagram.
func layoutMachine(m Machine) *svgLayout {
	l := &svgLayout{m: m, unitOf: map[string]int{}, boxes: map[string]svgRect{}}
	for _, t := range m.Transitions {
		if t.Creates {
			l.creates = append(l.creates, t)
			if l.initial == "" {
				l.initial = t.To
			}
		}
	}
	if l.initial == "" && len(m.States) > 0 {
		l.initial = m.States[0]
	}
	l.buildUnits()
	l.buildEdges()
	l.rank()
	l.place()
	l.route()
	l.placeLabels()
	return l
}

// buildUnits frames each set of two or more states that a move leaves together, when it
// shares no state with a frame already made; every other state is its own unit.
func (l *svgLayout) buildUnits() {
	index := func(s string) int { return slices.Index(l.m.States, s) }
	var frames [][]string
	framed := map[string]int{}
	for _, t := range l.m.Transitions {
		if t.Creates || len(t.From) < 2 {
			continue
		}
		set := slices.Clone(t.From)
		sort.Slice(set, func(i, j int) bool { return index(set[i]) < index(set[j]) })
		if slices.ContainsFunc(set, func(s string) bool { _, in := framed[s]; return in || index(s) < 0 }) {
			continue
		}
		for _, s := range set {
			framed[s] = len(frames)
		}
		frames = append(frames, set)
	}
	made := map[int]int{}
	for _, s := range l.m.States {
		if f, ok := framed[s]; ok {
			u, done := made[f]
			if !done {
				u = len(l.units)
				made[f] = u
				l.units = append(l.units, &svgUnit{states: frames[f], frame: true})
			}
			l.unitOf[s] = u
			continue
		}
		l.unitOf[s] = len(l.units)
		l.units = append(l.units, &svgUnit{states: []string{s}})
	}
}

// setKey is the box of a set of states: its frame when the set is exactly a frame's.
func (l *svgLayout) setKey(set []string) (string, bool) {
	if len(set) < 2 {
		return "", false
	}
	for i, u := range l.units {
		if u.frame && len(u.states) == len(set) && !slices.ContainsFunc(set, func(s string) bool { return !slices.Contains(u.states, s) }) {
			return frameKey(i), true
		}
	}
	return "", false
}

// unitOfKey is the unit a box belongs to.
func (l *svgLayout) unitOfKey(key string) int {
	if strings.HasPrefix(key, "f:") {
		var i int
		fmt.Sscanf(key, "f:%d", &i)
		return i
	}
	return l.unitOf[strings.TrimPrefix(key, "s:")]
}

// previous are the states a move enters the state s from (for ToPrevio).
func (l *svgLayout) previous(s string) []string {
	var out []string
	for _, t := range l.m.Transitions {
		if t.Creates || t.To != s {
			continue
		}
		for _, f := range t.From {
			if f != s && !slices.Contains(out, f) {
				out = append(out, f)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return slices.Index(l.m.States, out[i]) < slices.Index(l.m.States, out[j]) })
	return out
}

// buildEdges groups the moves into arrows between boxes.
func (l *svgLayout) buildEdges() {
	byKey := map[string]*svgEdge{}
	add := func(from, to string, kind edgeKind, t Transition, history bool) {
		k := fmt.Sprintf("%s|%s|%d", from, to, kind)
		e := byKey[k]
		if e == nil {
			e = &svgEdge{from: from, to: to, kind: kind, history: history}
			byKey[k] = e
			l.edges = append(l.edges, e)
		}
		e.moves = append(e.moves, t)
	}
	for _, t := range l.m.Transitions {
		if t.Creates {
			continue
		}
		sources := []string{}
		if k, ok := l.setKey(t.From); ok {
			sources = append(sources, k)
		} else {
			for _, f := range t.From {
				sources = append(sources, stateKey(f))
			}
		}
		for _, src := range sources {
			switch t.To {
			case "":
				add(src, src, edgeSelf, t, false)
			case ToPrevio:
				var states []string
				if strings.HasPrefix(src, "s:") {
					states = []string{strings.TrimPrefix(src, "s:")}
				} else {
					states = l.units[l.unitOfKey(src)].states
				}
				var prev []string
				for _, s := range states {
					for _, p := range l.previous(s) {
						if !slices.Contains(prev, p) {
							prev = append(prev, p)
						}
					}
				}
				if k, ok := l.setKey(prev); ok {
					add(src, k, edgeReturn, t, true)
					continue
				}
				for _, p := range prev {
					add(src, stateKey(p), edgeReturn, t, false)
				}
			default:
				to := stateKey(t.To)
				if src == to {
					add(src, to, edgeSelf, t, false)
				} else {
					add(src, to, edgeForward, t, false)
				}
			}
		}
	}
}

// rank puts every unit in a row: the longest path from the initial state over the arrows
// that do not close a cycle (found by a depth-first walk in table order); final states
// that lead nowhere go to the last row.
func (l *svgLayout) rank() {
	n := len(l.units)
	succ := make([][]int, n)
	for _, e := range l.edges {
		if e.kind != edgeForward {
			continue
		}
		a, b := l.unitOfKey(e.from), l.unitOfKey(e.to)
		if a != b && !slices.Contains(succ[a], b) {
			succ[a] = append(succ[a], b)
		}
	}
	const (
		unseen = iota
		open
		done
	)
	state := make([]int, n)
	back := map[[2]int]bool{}
	var order []int // reverse postorder: a topological order of the forward arrows
	var visit func(u int)
	visit = func(u int) {
		state[u] = open
		for _, v := range succ[u] {
			switch state[v] {
			case open:
				back[[2]int{u, v}] = true
			case unseen:
				visit(v)
			}
		}
		state[u] = done
		order = append([]int{u}, order...)
	}
	if u, ok := l.unitOf[l.initial]; ok {
		visit(u)
	}
	for u := range l.units {
		if state[u] == unseen {
			visit(u)
		}
	}
	for _, u := range order {
		for _, v := range succ[u] {
			if !back[[2]int{u, v}] && l.units[v].rank < l.units[u].rank+1 {
				l.units[v].rank = l.units[u].rank + 1
			}
		}
	}
	last := 0
	for _, u := range l.units {
		last = max(last, u.rank)
	}
	for i, u := range l.units {
		if !u.frame && slices.Contains(l.m.Final, u.states[0]) && len(succ[i]) == 0 {
			u.rank = last
		}
	}
	// An arrow into an earlier or the same row is drawn as such.
	for _, e := range l.edges {
		if e.kind != edgeForward {
			continue
		}
		a, b := l.units[l.unitOfKey(e.from)], l.units[l.unitOfKey(e.to)]
		switch {
		case a == b:
		case b.rank < a.rank:
			e.kind = edgeBack
		case b.rank == a.rank:
			e.kind = edgeSide
		}
	}
}

func stateBoxWidth(s string) float64 {
	return math.Max(svgNodeMinW, textWidth(s, svgStateFont)+32)
}

// widen makes a state wide enough for the arrows that share its top or bottom to stand
// apart.
func (l *svgLayout) widen(s string, w float64) float64 {
	n := 0
	for _, e := range l.edges {
		if e.kind != edgeSelf && (e.from == stateKey(s) || e.to == stateKey(s)) {
			n++
		}
	}
	return math.Max(w, 30*float64(n))
}

// place sizes the units and lays the rows out top to bottom, each centred, its units
// ordered by where the arrows into them come from.
func (l *svgLayout) place() {
	for i, u := range l.units {
		if !u.frame {
			u.box = svgRect{W: l.widen(u.states[0], stateBoxWidth(u.states[0])), H: svgNodeH}
			continue
		}
		maxW, inner := 0.0, 0.0
		for _, s := range u.states {
			maxW = math.Max(maxW, stateBoxWidth(s))
		}
		for _, e := range l.edges {
			if l.unitOfKey(e.from) == i && l.unitOfKey(e.to) == i && strings.HasPrefix(e.from, "s:") {
				inner = math.Max(inner, labelSize(e).W)
			}
		}
		h := 2*svgClusterPad + float64(len(u.states))*svgNodeH + float64(len(u.states)-1)*svgMemberGap
		// Labels inside the frame sit on their arrows: the frame is as wide as the
		// widest state or label.
		u.box = svgRect{W: 2*svgClusterPad + math.Max(maxW, inner), H: h}
	}
	rows := map[int][]int{}
	last := 0
	for i, u := range l.units {
		rows[u.rank] = append(rows[u.rank], i)
		last = max(last, u.rank)
	}
	// A row gap holds the labels of the arrows that cross it.
	gaps := map[int]float64{}
	for _, e := range l.edges {
		if e.kind == edgeSelf {
			continue
		}
		a, b := l.units[l.unitOfKey(e.from)].rank, l.units[l.unitOfKey(e.to)].rank
		if a-b == 1 || b-a == 1 {
			gaps[min(a, b)] += labelSize(e).H
		}
	}
	y := 0.0
	for r := 0; r <= last; r++ {
		row := rows[r]
		bary := map[int]float64{}
		for _, v := range row {
			sum, n := 0.0, 0.0
			for _, e := range l.edges {
				a := l.unitOfKey(e.from)
				if l.unitOfKey(e.to) == v && l.units[a].rank < r {
					sum += l.units[a].box.cx()
					n++
				}
			}
			bary[v] = math.Inf(-1)
			if n > 0 {
				bary[v] = sum / n
			}
		}
		sort.SliceStable(row, func(i, j int) bool { return bary[row[i]] < bary[row[j]] })
		width, height := 0.0, 0.0
		for i, v := range row {
			if i > 0 {
				width += svgColGap
			}
			width += l.units[v].box.W
			height = math.Max(height, l.units[v].box.H)
		}
		x := -width / 2
		for _, v := range row {
			u := l.units[v]
			u.box.X, u.box.Y = x, y+(height-u.box.H)/2
			x += u.box.W + svgColGap
		}
		if len(row) > 0 {
			y += height + math.Max(svgRowGap, 28+gaps[r])
		}
	}
	for i, u := range l.units {
		if !u.frame {
			l.boxes[stateKey(u.states[0])] = u.box
			continue
		}
		l.boxes[frameKey(i)] = u.box
		maxW := 0.0
		for _, s := range u.states {
			maxW = math.Max(maxW, stateBoxWidth(s))
		}
		y := u.box.Y + svgClusterPad
		for _, s := range u.states {
			w := stateBoxWidth(s)
			l.boxes[stateKey(s)] = svgRect{X: u.box.cx() - w/2, Y: y, W: w, H: svgNodeH}
			y += svgNodeH + svgMemberGap
		}
	}
}

// labelLines are an arrow's label: per move its name and roles, then what fires it and
// the money state it sets.
func labelLines(e *svgEdge) []string {
	var lines []string
	for _, t := range e.moves {
		roles := make([]string, len(t.Roles))
		for i, r := range t.Roles {
			roles[i] = string(r)
		}
		lines = append(lines, t.Move+" · "+strings.Join(roles, "/"))
		var more []string
		if t.Timer != nil {
			timer := fmt.Sprintf("⏱ %s %dh", t.Timer.Setting, t.Timer.Default/time.Hour)
			if t.Timer.Service != "" {
				timer += " (" + t.Timer.Service + ")"
			}
			more = append(more, timer)
		}
		if t.Trigger != "" {
			more = append(more, "⚡ "+t.Trigger)
		}
		if t.EscrowTo != "" {
			more = append(more, "escrow → "+t.EscrowTo)
		}
		// Details share a line while it stays short, so labels stay narrow.
		line := ""
		for _, d := range more {
			switch {
			case line == "":
				line = "  " + d
			case utf8.RuneCountInString(line+d) > 40:
				lines = append(lines, line)
				line = "  " + d
			default:
				line += " · " + d
			}
		}
		if line != "" {
			lines = append(lines, line)
		}
	}
	if e.kind == edgeReturn {
		lines = append(lines, "↩ "+ToPrevio)
	}
	return lines
}

func linesSize(lines []string) svgRect {
	w := 0.0
	for _, s := range lines {
		w = math.Max(w, textWidth(s, svgLabelFont))
	}
	return svgRect{W: w + 8, H: float64(len(lines))*svgLineH + 4}
}

func labelSize(e *svgEdge) svgRect { return linesSize(labelLines(e)) }

// port is where an arrow meets a box: its sides are shared out among the arrows in the
// order of where their other ends are, so arrows neither cross at the box nor coincide.
type portKey struct {
	box  string
	side byte // 't'op or 'b'ottom
}

func (l *svgLayout) route() {
	// Arrows that would cross a unit between their ends go around the rows instead; the
	// shorter ones take the inner runs, so runs do not cross.
	byspan := slices.Clone(l.edges)
	span := func(e *svgEdge) int {
		d := l.units[l.unitOfKey(e.from)].rank - l.units[l.unitOfKey(e.to)].rank
		return max(d, -d)
	}
	sort.SliceStable(byspan, func(i, j int) bool { return span(byspan[i]) < span(byspan[j]) })
	for _, e := range byspan {
		if e.kind != edgeForward && e.kind != edgeBack && e.kind != edgeReturn {
			continue
		}
		// The ports will lie towards the other end: test the curve between those.
		a, b := l.boxes[e.from], l.boxes[e.to]
		ax, bx := clamp(b.cx(), a.X+a.W/4, a.right()-a.W/4), clamp(a.cx(), b.X+b.W/4, b.right()-b.W/4)
		p0, p3 := svgPt{ax, a.bottom()}, svgPt{bx, b.Y}
		if e.kind != edgeForward {
			p0, p3 = svgPt{ax, a.Y}, svgPt{bx, b.bottom()}
		}
		if l.unitOfKey(e.from) != l.unitOfKey(e.to) && l.crosses(e, sCurve(p0, p3)) {
			e.lane = true
			l.laneX(e)
		}
	}
	ports := map[portKey][]*svgEdge{}
	ends := map[*svgEdge][2]portKey{}
	for _, e := range l.edges {
		if e.kind == edgeSelf {
			continue
		}
		if e.lane {
			// A routed arrow leaves its source's side and needs a port only where it
			// enters its target (unless its run is over the target anyway).
			b := l.boxes[e.to]
			if e.laneX > b.X+14 && e.laneX < b.right()-14 {
				continue
			}
			k := portKey{e.to, 't'}
			if b.cy() < l.boxes[e.from].cy() {
				k.side = 'b'
			}
			ends[e] = [2]portKey{{}, k}
			ports[k] = append(ports[k], e)
			continue
		}
		fs, ts := byte('b'), byte('t')
		switch e.kind {
		case edgeBack, edgeReturn:
			fs, ts = 't', 'b'
		case edgeSide:
			fs, ts = 't', 't'
		}
		if e.kind == edgeReturn && l.boxes[e.to].Y > l.boxes[e.from].Y {
			fs, ts = 'b', 't'
		}
		k := [2]portKey{{e.from, fs}, {e.to, ts}}
		ends[e] = k
		ports[k[0]] = append(ports[k[0]], e)
		ports[k[1]] = append(ports[k[1]], e)
	}
	if l.initial != "" {
		// The start arrow takes the middle of the initial state's top.
		k := portKey{stateKey(l.initial), 't'}
		ports[k] = append(ports[k], nil)
	}
	at := map[*svgEdge][2]svgPt{}
	var startX float64
	for k, list := range ports {
		box := l.boxes[k.box]
		other := func(e *svgEdge) float64 {
			if e == nil {
				return box.cx()
			}
			if e.lane {
				return e.laneX
			}
			if e.from == k.box && ends[e][0] == k {
				return l.boxes[e.to].cx()
			}
			return l.boxes[e.from].cx()
		}
		idx := func(e *svgEdge) int { return slices.Index(l.edges, e) }
		sort.SliceStable(list, func(i, j int) bool {
			oi, oj := other(list[i]), other(list[j])
			if oi != oj {
				return oi < oj
			}
			return idx(list[i]) < idx(list[j])
		})
		y := box.Y
		if k.side == 'b' {
			y = box.bottom()
		}
		for i, e := range list {
			p := svgPt{box.X + box.W*float64(i+1)/float64(len(list)+1), y}
			if e == nil {
				startX = p.X
				continue
			}
			pair := at[e]
			if ends[e][0] == k && (pair[0] == svgPt{}) {
				pair[0] = p
			} else {
				pair[1] = p
			}
			at[e] = pair
		}
	}
	if l.initial != "" {
		b := l.boxes[stateKey(l.initial)]
		l.start = svgPt{startX, b.Y - 52}
		l.startLb = svgLabel{lines: labelLines(&svgEdge{moves: l.creates})}
	}
	for _, e := range l.edges {
		switch {
		case e.kind == edgeSelf:
			l.routeLoop(e)
		case e.lane:
			l.routeLane(e, at[e][1])
		default:
			p := at[e]
			p0, p3 := p[0], p[1]
			if e.history {
				// The arrow stops at the history mark that sits on the frame's border.
				p3.Y += 10
			}
			c := sCurve(p0, p3)
			if e.kind == edgeSide {
				c = [4]svgPt{p0, {p0.X, p0.Y - 50}, {p3.X, p3.Y - 50}, p3}
			}
			e.path = fmt.Sprintf("M%s C%s %s %s", pt(c[0]), pt(c[1]), pt(c[2]), pt(c[3]))
			e.samples = curveSamples(c)
			e.end = p[1]
			ts := []float64{0.5, 0.4, 0.6, 0.3, 0.7, 0.2, 0.8}
			for _, t := range ts {
				e.anchors = append(e.anchors, svgSpot{P: bezier(c, t), center: true})
			}
			for _, t := range ts {
				q := bezier(c, t)
				e.anchors = append(e.anchors, svgSpot{P: q}, svgSpot{P: q, left: true})
			}
		}
	}
}

// sCurve is a cubic curve leaving p0 and entering p3 vertically.
func sCurve(p0, p3 svgPt) [4]svgPt {
	k := math.Max(28, math.Abs(p3.Y-p0.Y)*0.45)
	dir := 1.0
	if p3.Y < p0.Y {
		dir = -1
	}
	return [4]svgPt{p0, {p0.X, p0.Y + dir*k}, {p3.X, p3.Y - dir*k}, p3}
}

func curveSamples(c [4]svgPt) []svgPt {
	out := make([]svgPt, 0, 33)
	for i := 0; i <= 32; i++ {
		out = append(out, bezier(c, float64(i)/32))
	}
	return out
}

// lineSamples are points every few units along a polyline.
func lineSamples(ps ...svgPt) []svgPt {
	var out []svgPt
	for i := 1; i < len(ps); i++ {
		a, b := ps[i-1], ps[i]
		n := int(math.Max(1, math.Hypot(b.X-a.X, b.Y-a.Y)/6))
		for j := 0; j < n; j++ {
			f := float64(j) / float64(n)
			out = append(out, svgPt{a.X + (b.X-a.X)*f, a.Y + (b.Y-a.Y)*f})
		}
	}
	return append(out, ps[len(ps)-1])
}

func bezier(c [4]svgPt, t float64) svgPt {
	u := 1 - t
	a, b, d, e := u*u*u, 3*u*u*t, 3*u*t*t, t*t*t
	return svgPt{a*c[0].X + b*c[1].X + d*c[2].X + e*c[3].X, a*c[0].Y + b*c[1].Y + d*c[2].Y + e*c[3].Y}
}

// crosses says whether the curve runs through a unit other than the ones it joins.
func (l *svgLayout) crosses(e *svgEdge, c [4]svgPt) bool {
	skip := map[int]bool{l.unitOfKey(e.from): true, l.unitOfKey(e.to): true}
	for i := 1; i < 24; i++ {
		p := bezier(c, float64(i)/24)
		for j, u := range l.units {
			if !skip[j] && u.box.grow(6).contains(p) {
				return true
			}
		}
	}
	return false
}

// routeLoop draws a move that keeps the state as a loop on the state's outer side.
func (l *svgLayout) routeLoop(e *svgEdge) {
	b := l.boxes[e.from]
	dir, x := 1.0, b.right()
	// Left of the middle the loop goes left, out of the way; a framed state keeps it
	// inside its frame's label space on the right.
	if b.cx() < -1 && !l.units[l.unitOfKey(e.from)].frame {
		dir, x = -1, b.X
	}
	p0, p3 := svgPt{x, b.cy() - 9}, svgPt{x, b.cy() + 9}
	c1, c2 := svgPt{x + dir*svgLoopOut, b.cy() - 34}, svgPt{x + dir*svgLoopOut, b.cy() + 34}
	e.path = fmt.Sprintf("M%s C%s %s %s", pt(p0), pt(c1), pt(c2), pt(p3))
	e.samples = curveSamples([4]svgPt{p0, c1, c2, p3})
	e.end = p3
	tip := svgPt{x + dir*(svgLoopOut*0.75+4), b.cy()}
	e.anchors = []svgSpot{{P: tip, left: dir < 0}, {P: svgPt{tip.X, b.cy() - 24}, left: dir < 0}, {P: svgPt{tip.X, b.cy() + 24}, left: dir < 0}}
}

// laneX picks the x of a routed arrow's vertical run: beside every unit between its ends
// and clear of the runs (with their labels) already on that side.
func (l *svgLayout) laneX(e *svgEdge) {
	a, b := l.boxes[e.from], l.boxes[e.to]
	right := b.cx() >= a.cx()
	top, bottom := math.Min(a.Y, b.Y)-30, math.Max(a.bottom(), b.bottom())+30
	size := labelSize(e)
	x := math.Inf(-1)
	if !right {
		x = math.Inf(1)
	}
	for _, u := range l.units {
		if u.box.bottom() < top || u.box.Y > bottom {
			continue
		}
		if right {
			x = math.Max(x, u.box.right()+30)
		} else {
			x = math.Min(x, u.box.X-30)
		}
	}
	for _, r := range l.lanes {
		if r.bottom() < top || r.Y > bottom {
			continue
		}
		if right {
			x = math.Max(x, r.right()+24)
		} else {
			x = math.Min(x, r.X-24)
		}
	}
	e.laneX = x
	lane := svgRect{X: x, Y: top, W: size.W + 10, H: bottom - top}
	if !right {
		lane.X = x - size.W - 10
	}
	l.lanes = append(l.lanes, lane)
}

// routeLane takes an arrow out of its source's side, along its run and into its target
// at port (or straight down into it when the run is over the target).
func (l *svgLayout) routeLane(e *svgEdge, port svgPt) {
	a, b := l.boxes[e.from], l.boxes[e.to]
	x := e.laneX
	right := x > a.cx()
	sx, sy := a.X, a.cy()
	if right {
		sx = a.right()
	}
	down := b.cy() > sy
	edgeY := b.bottom()
	if down {
		edgeY = b.Y
	}
	const r = 12.0
	dy := sign(b.cy() - sy)
	var d strings.Builder
	fmt.Fprintf(&d, "M%s H%s Q%s %s", pt(svgPt{sx, sy}), num(x-sign(x-sx)*r), pt(svgPt{x, sy}), pt(svgPt{x, sy + dy*r}))
	poly := []svgPt{{sx, sy}, {x, sy}}
	if (port == svgPt{}) {
		fmt.Fprintf(&d, " V%s", num(edgeY))
		e.end = svgPt{x, edgeY}
		poly = append(poly, e.end)
	} else {
		turn := edgeY - dy*24
		dx := sign(port.X - x)
		fmt.Fprintf(&d, " V%s Q%s %s H%s Q%s %s V%s", num(turn-dy*r), pt(svgPt{x, turn}), pt(svgPt{x + dx*r, turn}),
			num(port.X-dx*r), pt(svgPt{port.X, turn}), pt(svgPt{port.X, turn + dy*r}), num(edgeY))
		e.end = svgPt{port.X, edgeY}
		poly = append(poly, svgPt{x, turn}, svgPt{port.X, turn}, e.end)
	}
	e.path = d.String()
	e.samples = lineSamples(poly...)
	y0, y1 := math.Min(sy, poly[2].Y), math.Max(sy, poly[2].Y)
	for _, f := range []float64{0.5, 0.35, 0.65, 0.2, 0.8} {
		e.anchors = append(e.anchors, svgSpot{P: svgPt{x, y0 + (y1-y0)*f}, left: !right})
	}
}

func clamp(v, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, v)) }

func sign(v float64) float64 {
	if v < 0 {
		return -1
	}
	return 1
}

// spotBox is the label's rectangle at a spot.
func spotBox(s svgSpot, size svgRect) svgRect {
	x := s.P.X + 7
	switch {
	case s.center:
		x = s.P.X - size.W/2
	case s.left:
		x = s.P.X - 7 - size.W
	}
	return svgRect{X: x, Y: s.P.Y - size.H/2, W: size.W, H: size.H}
}

// placeLabels puts each label at the first spot along its arrow where it covers no state
// and no label placed before it, else where it covers least.
func (l *svgLayout) placeLabels() {
	var obstacles []svgRect
	for _, u := range l.units {
		if !u.frame {
			obstacles = append(obstacles, u.box.grow(4))
		}
	}
	for k, b := range l.boxes {
		if strings.HasPrefix(k, "s:") && l.units[l.unitOf[strings.TrimPrefix(k, "s:")]].frame {
			obstacles = append(obstacles, b.grow(4))
		}
	}
	sort.Slice(obstacles, func(i, j int) bool {
		if obstacles[i].Y != obstacles[j].Y {
			return obstacles[i].Y < obstacles[j].Y
		}
		return obstacles[i].X < obstacles[j].X
	})
	var samples []svgPt
	for _, e := range l.edges {
		samples = append(samples, e.samples...)
	}
	if l.initial != "" {
		samples = append(samples, lineSamples(l.start, svgPt{l.start.X, l.boxes[stateKey(l.initial)].Y})...)
	}
	place := func(lb *svgLabel, spots []svgSpot, own []svgPt) {
		size := linesSize(lb.lines)
		best, bestCost := svgRect{}, math.Inf(1)
		for _, s := range spots {
			r := spotBox(s, size)
			cost := 0.0
			for _, o := range obstacles {
				cost += r.overlap(o)
			}
			for _, o := range l.labels {
				cost += r.overlap(o.box.grow(3))
			}
			for _, p := range samples {
				if r.grow(2).contains(p) && !(s.center && slices.Contains(own, p)) {
					cost += 40
				}
			}
			if cost < bestCost {
				best, bestCost = r, cost
			}
			if cost == 0 {
				break
			}
		}
		lb.box = best
		l.labels = append(l.labels, lb)
	}
	if l.initial != "" {
		mid := svgPt{l.start.X, l.start.Y + 26}
		place(&l.startLb, []svgSpot{{P: mid}, {P: mid, left: true}}, nil)
	}
	// Loops and routed arrows have the fewest choices: they go first.
	order := slices.Clone(l.edges)
	rank := func(e *svgEdge) int {
		switch {
		case e.kind == edgeSelf:
			return 0
		case e.lane:
			return 1
		}
		return 2
	}
	sort.SliceStable(order, func(i, j int) bool { return rank(order[i]) < rank(order[j]) })
	for _, e := range order {
		e.label.lines = labelLines(e)
		place(&e.label, e.anchors, e.samples)
	}
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

// legend explains the marks; it sits under the diagram.
var svgLegend = []string{
	"● start · double border: final state · dashed frame: states a move leaves alike",
	"⏱ timer (setting, default) · ⚡ event of another context · escrow → money state set",
	"dashed arrow to H: back to the state the job had before",
}

func (l *svgLayout) render() string {
	id := "lc-" + l.m.Name
	bounds := svgRect{X: 0, Y: 0}
	first := true
	grow := func(r svgRect) {
		if first {
			bounds, first = r, false
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
	for _, s := range svgLegend {
		legendW = math.Max(legendW, textWidth(s, svgLabelFont))
	}
	grow(svgRect{X: bounds.cx() - legendW/2, Y: legendY - 12, W: legendW, H: float64(len(svgLegend)) * svgLineH})
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
	for i, s := range svgLegend {
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
