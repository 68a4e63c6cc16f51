package domain

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// The layout of a lifecycle diagram: which states share a frame, the rows, the arrows.

// svgUnit is what the rows lay out: one state, or the frame around the states one move
// leaves together.
type svgUnit struct {
	states []string
	frame  bool
	box    svgRect
	rank   int
}

// edgeKind says how an arrow runs, which decides the sides it uses.
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

// svgLabel is an arrow's text, and where it went.
type svgLabel struct {
	lines []string
	box   svgRect
}

// svgLayout is a machine's diagram before it is written: every box, arrow and label.
type svgLayout struct {
	m         Machine
	initial   string
	creates   []Transition
	units     []*svgUnit
	unitOf    map[string]int // state → unit
	frameUnit map[string]int // frame key → unit
	boxes     map[string]svgRect
	edges     []*svgEdge
	start     svgPt
	startLb   svgLabel
	labels    []*svgLabel // placed so far, for collisions
	lanes     []svgRect   // the vertical runs of routed arrows with their labels
}

func stateKey(s string) string { return "s:" + s }
func frameKey(i int) string    { return fmt.Sprintf("f:%d", i) }

// layoutMachine computes every position of m's diagram.
func layoutMachine(m Machine) *svgLayout {
	l := &svgLayout{m: m, unitOf: map[string]int{}, frameUnit: map[string]int{}, boxes: map[string]svgRect{}}
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
				l.frameUnit[frameKey(u)] = u
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

// unitOfKey is the unit a box belongs to: a frame, or the unit of its state.
func (l *svgLayout) unitOfKey(key string) int {
	if u, ok := l.frameUnit[key]; ok {
		return u
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
			// Inside a frame the states stand in table order, top to bottom.
			if slices.Index(a.states, strings.TrimPrefix(e.to, "s:")) < slices.Index(a.states, strings.TrimPrefix(e.from, "s:")) {
				e.kind = edgeBack
			}
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
	// A row gap makes room for the labels of the arrows that cross it.
	gaps := map[int]float64{}
	for _, e := range l.edges {
		if e.kind == edgeSelf {
			continue
		}
		a, b := l.units[l.unitOfKey(e.from)].rank, l.units[l.unitOfKey(e.to)].rank
		// An arrow across several gaps puts its label in one of them.
		for r := min(a, b); r < max(a, b); r++ {
			gaps[r] += labelSize(e).H / float64(max(a, b)-min(a, b))
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
			y += height + math.Max(svgRowGap, 40+gaps[r])
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
