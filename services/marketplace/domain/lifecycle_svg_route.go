package domain

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
)

// The paths of a lifecycle diagram's arrows and where their labels go.

// portKey is one side of a box. Each side is shared out among the arrows that meet it
// there, in the order of where their other ends are, so they neither cross at the box
// nor coincide.
type portKey struct {
	box  string
	side byte // 't'op, 'b'ottom, 'l'eft or 'r'ight
}

// route draws every arrow: straight between rows where it crosses no other unit, around
// the rows in between where it would.
func (l *svgLayout) route() {
	l.chooseLanes()
	at, ends, startX := l.assignPorts()
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
				p3.Y += 10 * sign(p0.Y-p3.Y)
			}
			c := sCurve(p0, p3)
			if side := ends[e][0].side; side == 'r' && ends[e][1].side == 'r' {
				c[1], c[2] = svgPt{p0.X + 44, p0.Y}, svgPt{p3.X + 44, p3.Y}
			} else if side == 'l' || side == 'r' {
				c[1] = svgPt{p0.X + (p3.X-p0.X)*0.6, p0.Y}
				if e.kind == edgeBack {
					out := 60.0
					if side == 'l' {
						out = -60
					}
					c[1] = svgPt{p0.X + out, p0.Y}
				}
			}
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

// chooseLanes routes around the rows the arrows that would cross a unit between their
// ends; the shorter ones take the inner runs, so runs do not cross.
func (l *svgLayout) chooseLanes() {
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
}

// portSides are the sides of its boxes an arrow leaves and enters by.
func (l *svgLayout) portSides(e *svgEdge) (from, to byte) {
	a, b := l.boxes[e.from], l.boxes[e.to]
	if u := l.unitOfKey(e.from); u == l.unitOfKey(e.to) && l.units[u].frame && e.kind == edgeForward {
		// Inside a frame, a move that skips a state goes round it on the right.
		states := l.units[u].states
		if slices.Index(states, strings.TrimPrefix(e.to, "s:"))-slices.Index(states, strings.TrimPrefix(e.from, "s:")) > 1 {
			return 'r', 'r'
		}
	}
	switch {
	case e.kind == edgeBack:
		// A move back up leaves from its state's side and bulges out, clear of the
		// arrows down between the same states.
		if b.cx() < a.cx()-1 {
			return 'l', 'b'
		}
		return 'r', 'b'
	case e.kind == edgeReturn && b.Y > a.Y:
		return 'b', 't'
	case e.kind == edgeReturn:
		return 't', 'b'
	case e.kind == edgeSide:
		return 't', 't'
	case strings.HasPrefix(e.from, "f:") && b.cx() < a.X:
		// A frame's arrow to a state beside it leaves from that side: the frame's
		// bottom stays for the arrows that go straight down.
		return 'l', 't'
	case strings.HasPrefix(e.from, "f:") && b.cx() > a.right():
		return 'r', 't'
	}
	return 'b', 't'
}

// assignPorts places the ends of every arrow but loops (a routed one only where it
// enters its target) and of the start arrow, whose x it returns.
func (l *svgLayout) assignPorts() (at map[*svgEdge][2]svgPt, ends map[*svgEdge][2]portKey, startX float64) {
	ports := map[portKey][]*svgEdge{}
	ends = map[*svgEdge][2]portKey{}
	for _, e := range l.edges {
		switch {
		case e.kind == edgeSelf:
			continue
		case e.lane:
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
		default:
			fs, ts := l.portSides(e)
			k := [2]portKey{{e.from, fs}, {e.to, ts}}
			ends[e] = k
			ports[k[0]] = append(ports[k[0]], e)
			ports[k[1]] = append(ports[k[1]], e)
		}
	}
	if l.initial != "" {
		// The start arrow takes the middle of the initial state's top.
		k := portKey{stateKey(l.initial), 't'}
		ports[k] = append(ports[k], nil)
	}
	at = map[*svgEdge][2]svgPt{}
	// Each side is placed on its own, so the map's order does not matter.
	for k, list := range ports {
		box := l.boxes[k.box]
		other := func(e *svgEdge) float64 {
			switch {
			case e == nil:
				return box.cx()
			case e.lane:
				return e.laneX
			case ends[e][0] == k:
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
		for i, e := range list {
			var p svgPt
			switch k.side {
			case 't':
				p = svgPt{box.X + box.W*float64(i+1)/float64(len(list)+1), box.Y}
			case 'b':
				p = svgPt{box.X + box.W*float64(i+1)/float64(len(list)+1), box.bottom()}
			case 'l':
				p = svgPt{box.X, box.bottom() - 24 - 20*float64(i)}
			case 'r':
				p = svgPt{box.right(), box.bottom() - 24 - 20*float64(len(list)-1-i)}
			}
			if (k.side == 'l' || k.side == 'r') && !strings.HasPrefix(k.box, "f:") {
				p.Y = box.cy()
			}
			if e == nil {
				startX = p.X
				continue
			}
			pair := at[e]
			if ends[e][0] == k {
				pair[0] = p
			} else {
				pair[1] = p
			}
			at[e] = pair
		}
	}
	return at, ends, startX
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
	out := make([]svgPt, 0, 97)
	for i := 0; i <= 96; i++ {
		out = append(out, bezier(c, float64(i)/96))
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
