package professionals

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/conectarpro/conectar/platform/kit"
	"github.com/conectarpro/conectar/platform/pg"
)

// searchIndex answers every search from a copy of the busqueda table held in memory.
//
// A search is "the visible professionals of a trade whose circle holds the point (or who
// are within a radius of it), filtered, counted, and one page of them in some order". In
// SQL that is an index scan and a sort of a few thousand rows per request: 2–5 ms of
// PostgreSQL CPU at 100,000 professionals, which on two cores held the search's p95 at
// 16 clients near 50 ms (the professionals bench). In memory it is a few thousand dot
// products on the same columns, tens of microseconds.
//
// The table stays the truth and the place every change is made. Before answering, a
// search waits for a sync round that started after it arrived: one small query reads
// which professionals the transactions committed since the last round changed
// (busqueda_cambios, filled by triggers) and reloads only those. So a search sees every
// change committed before it was sent, in every replica, as the SQL did; concurrent
// searches share a round.
type searchIndex struct {
	pool *pgxpool.Pool
	log  *slog.Logger
	now  func() time.Time

	mu     sync.RWMutex
	shards map[string]*shard  // by oficio_id; AnyOficio holds every visible professional
	pros   map[string]*perfil // by profesional_id

	// State of the sync rounds, touched only by the round in flight (rounds run one at
	// a time).
	watermark int64              // xmin of the snapshot of the last round
	seen      map[int64]struct{} // transactions ≥ watermark already applied
	marks     []pruneMark        // watermarks of rounds a minute apart, for pruning the change log

	rmu     sync.Mutex
	running *syncRound // the round in flight
	next    *syncRound // the round that starts when it ends

	// synced is when the last round succeeded (unix nanoseconds; 0 before the first): when
	// to reload whole, and the age metric.
	synced atomic.Int64
	// outcome counts rounds by what they did: unchanged, delta, full, failed.
	outcome func(string)
}

// staleAfter: a process whose last successful round is older than this reloads the whole
// index, because the change log it would read from may have been pruned (pruneAfter).
const (
	staleAfter = 5 * time.Minute
	pruneAfter = 10 * time.Minute
	// cellDeg is the side of a grid cell in degrees: ~11 km north–south, so a
	// 10 km search reads about a dozen cells.
	cellDeg = 0.1
	// gridCols is the number of cell columns around the globe: longitudes wrap, cell
	// rows run from latitude -90 to 90.
	gridCols int32 = 360 / cellDeg
	// earthRadiusM is earthRadius as a number: the sphere of ST_Distance(…, false) and <->.
	earthRadiusM = 6371008.771415
)

// bandKm splits each trade's professionals by coverage radius. A coverage search reads,
// for each band, the cells within the band's widest radius of the point: with bands 5 km
// apart it reads little more than the circles that may hold the point, and the cells of
// the wide ones only for the few that cover hundreds of kilometres.
var bandKm = [...]int{5, 10, 15, 20, 25, 30, 40, 50, 75, 100, 200}

type pruneMark struct {
	at   time.Time
	xmin int64
}

type syncRound struct {
	done chan struct{}
	err  error
}

// perfil is one visible professional as the index keeps it: the columns of its busqueda
// rows that are the same in each. It is never changed once built: a change replaces it,
// so answers can be built from it after the lock is released. What every candidate is
// tested and sorted on is copied into its entries too (entry).
type perfil struct {
	id               string
	nombre, apellido string
	avatarURL        *string
	oficios          []string // names of its enabled trades
	oficioIDs        []string // ids of the rows other than AnyOficio
	texto            string
	located          bool
	lat, lng         float64
	ux, uy, uz       float64
	cosCobertura     float64
	radioKm          int
	aceptaInstant    bool
	tarifa           *int64
	rating           float64
	resenas          int
	nivel            string
	nivelRank        int
	puntos           int
	shardKeys        []string // oficio ids of its rows, AnyOficio included
	oficioNombres    []string // oficio_nombre of each row, in shardKeys' order
}

// entry is one busqueda row in a cell: the filters' columns and the sort keys, kept in
// the entry itself so that the rows that pass the geographic test are judged without
// chasing a pointer each.
type entry struct {
	rating                   float64
	tarifa                   int64
	resenas, puntos          int32
	nivelRank                int8
	hasTarifa, aceptaInstant bool
	dead                     bool   // replaced or removed: skipped until the cell is compacted
	slot                     uint16 // index of the row in p.shardKeys
	p                        *perfil
}

func newEntry(p *perfil, slot int) entry {
	e := entry{rating: p.rating,
		resenas: int32(p.resenas), puntos: int32(p.puntos), nivelRank: int8(p.nivelRank),
		aceptaInstant: p.aceptaInstant, slot: uint16(slot), p: p}
	if p.tarifa != nil {
		e.hasTarifa, e.tarifa = true, *p.tarifa
	}
	return e
}

type cellKey struct{ lat, lng int32 }

// cell holds its rows column-wise: a search tests thousands of rows per request on their
// unit vector and coverage cosine alone, and reading those four arrays in order moves a
// third of the memory that whole entries would.
type cell struct {
	ux, uy, uz, cos []float64
	entries         []entry
	dead            int
}

func (c *cell) add(p *perfil, slot int) {
	c.ux, c.uy, c.uz, c.cos = append(c.ux, p.ux), append(c.uy, p.uy), append(c.uz, p.uz), append(c.cos, p.cosCobertura)
	c.entries = append(c.entries, newEntry(p, slot))
}

// compact drops the dead rows.
func (c *cell) compact() {
	n := 0
	for i := range c.entries {
		if !c.entries[i].dead {
			c.ux[n], c.uy[n], c.uz[n], c.cos[n], c.entries[n] = c.ux[i], c.uy[i], c.uz[i], c.cos[i], c.entries[i]
			n++
		}
	}
	clear(c.entries[n:]) // let the removed perfils go
	c.ux, c.uy, c.uz, c.cos, c.entries = c.ux[:n], c.uy[:n], c.uz[:n], c.cos[:n], c.entries[:n]
	c.dead = 0
}

// grid holds the located professionals of one band by the cell of their base.
type grid struct {
	cells map[cellKey]*cell
	maxKm int // the widest coverage radius ever put in it
}

// shard is one trade's professionals.
type shard struct {
	bands     [len(bandKm) + 1]grid
	unlocated cell // without a base location: found only by searches without a point
}

func newSearchIndex(pool *pgxpool.Pool, log *slog.Logger, now func() time.Time) *searchIndex {
	return &searchIndex{pool: pool, log: log, now: now,
		shards: map[string]*shard{}, pros: map[string]*perfil{}, seen: map[int64]struct{}{}, outcome: func(string) {}}
}

// Size is how many professionals the index holds.
func (ix *searchIndex) Size() int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return len(ix.pros)
}

// Age is the time since the last successful sync round (0 before the first).
func (ix *searchIndex) Age() time.Duration {
	t := ix.synced.Load()
	if t == 0 {
		return 0
	}
	return ix.now().Sub(time.Unix(0, t))
}

// Run keeps the index fresh while no searches come (and so its change log pruned); it
// ends with ctx.
func (ix *searchIndex) Run(ctx context.Context) {
	kit.Every(ctx, time.Second, ix.log, "search index sync", ix.Fresh)
}

// Fresh returns once a sync round that started after the call has ended: every change
// committed before the call is then in the index.
func (ix *searchIndex) Fresh(ctx context.Context) error {
	ix.rmu.Lock()
	var r *syncRound
	if ix.running == nil {
		r = &syncRound{done: make(chan struct{})}
		ix.running = r
		go ix.rounds(r)
	} else {
		// The round in flight may have read the log before our caller's change: wait
		// for the next one, shared by everyone who arrives meanwhile.
		if ix.next == nil {
			ix.next = &syncRound{done: make(chan struct{})}
		}
		r = ix.next
	}
	ix.rmu.Unlock()
	select {
	case <-r.done:
		return r.err
	case <-ctx.Done():
		return fmt.Errorf("search index: %w", ctx.Err())
	}
}

// rounds runs r and then every round queued behind it. Its context is its own: a
// round serves many searches, so one caller's cancellation must not fail the others.
func (ix *searchIndex) rounds(r *syncRound) {
	for r != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		what, err := ix.sync(ctx)
		cancel()
		if err != nil {
			what = "failed"
		}
		ix.outcome(what)
		r.err = err
		close(r.done)
		ix.rmu.Lock()
		r, ix.next = ix.next, nil
		ix.running = r
		ix.rmu.Unlock()
	}
}

// sync is one round: reload the professionals changed since the last round, or all of
// them on the first round, after a TRUNCATE or after staleAfter without a round.
func (ix *searchIndex) sync(ctx context.Context) (string, error) {
	last := ix.synced.Load()
	full := last == 0 || ix.now().Sub(time.Unix(0, last)) > staleAfter
	var xmin int64
	var changed []string
	var applied []int64
	if full {
		if err := ix.pool.QueryRow(ctx, `SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint`).Scan(&xmin); err != nil {
			return "", fmt.Errorf("search index: snapshot: %w", pg.Translate(err))
		}
	} else {
		// Every transaction below the last round's xmin had finished then and is in the
		// index; the ones from there on either finished since (their changes are read
		// now) or are still running (they stay at or above this round's xmin).
		rows, err := ix.pool.Query(ctx, `SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint,
				c.xid::text::bigint, c.profesional_id::text
			FROM (SELECT 1) s LEFT JOIN busqueda_cambios c ON c.xid >= $1::bigint::text::xid8`, ix.watermark)
		if err != nil {
			return "", fmt.Errorf("search index: changes: %w", pg.Translate(err))
		}
		dedupe := map[string]struct{}{}
		for rows.Next() {
			var xid *int64
			var id *string
			if err := rows.Scan(&xmin, &xid, &id); err != nil {
				rows.Close()
				return "", fmt.Errorf("search index: changes: %w", err)
			}
			if xid == nil {
				continue // no change since the last round
			}
			if _, done := ix.seen[*xid]; done {
				continue // applied by an earlier round; a long transaction holds the xmin below it
			}
			applied = append(applied, *xid)
			if id == nil {
				full = true // the table was truncated
				continue
			}
			if _, ok := dedupe[*id]; !ok {
				dedupe[*id] = struct{}{}
				changed = append(changed, *id)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return "", fmt.Errorf("search index: changes: %w", pg.Translate(err))
		}
	}
	// Past an eighth of the index (a rebuild, a trade renamed) one read of the whole
	// table is cheaper than finding each changed row in its cells.
	if len(changed) > len(ix.pros)/8+64 {
		full = true
	}
	what := "unchanged"
	switch {
	case full:
		what = "full"
		pros, err := ix.load(ctx, nil)
		if err != nil {
			return "", err
		}
		ix.replace(pros)
	case len(changed) > 0:
		what = "delta"
		pros, err := ix.load(ctx, changed)
		if err != nil {
			return "", err
		}
		ix.apply(changed, pros)
	}
	// Applied transactions at or above the new xmin may be read again by the next
	// round (the xmin waits for an older, longer one); the rest are gone from its reads.
	for x := range ix.seen {
		if x < xmin {
			delete(ix.seen, x)
		}
	}
	for _, x := range applied {
		if x >= xmin {
			ix.seen[x] = struct{}{}
		}
	}
	now := ix.now()
	ix.watermark = xmin
	ix.synced.Store(now.UnixNano())
	return what, ix.prune(ctx, now)
}

// prune deletes the change log of transactions every process has read by now: those
// below the watermark of a round at least pruneAfter old. A process that has not synced
// since then reloads whole (staleAfter), so it needs none of them. Rounds call it.
func (ix *searchIndex) prune(ctx context.Context, now time.Time) error {
	if n := len(ix.marks); n > 0 && now.Sub(ix.marks[n-1].at) < time.Minute {
		return nil
	}
	ix.marks = append(ix.marks, pruneMark{at: now, xmin: ix.watermark})
	var cut int64 = -1
	for len(ix.marks) > 0 && now.Sub(ix.marks[0].at) >= pruneAfter {
		cut, ix.marks = ix.marks[0].xmin, ix.marks[1:]
	}
	if cut <= 0 {
		return nil
	}
	if _, err := ix.pool.Exec(ctx, `DELETE FROM busqueda_cambios WHERE xid < $1::bigint::text::xid8`, cut); err != nil {
		return fmt.Errorf("search index: prune: %w", pg.Translate(err))
	}
	return nil
}

// load reads the busqueda rows of ids (all when ids is nil) as professionals.
func (ix *searchIndex) load(ctx context.Context, ids []string) ([]*perfil, error) {
	const cols = `SELECT profesional_id::text, oficio_id::text, oficio_nombre, oficios, nombre, apellido, avatar_url, texto,
			ST_Y(base_location::geometry), ST_X(base_location::geometry), ux, uy, uz, cos_cobertura, radio_cobertura_km,
			acepta_instant, tarifa_por_hora, rating_promedio::float8, total_resenas, nivel, nivel_rank, puntos_experiencia
		FROM busqueda`
	var rows pgx.Rows
	var err error
	if ids == nil {
		rows, err = ix.pool.Query(ctx, cols+` ORDER BY profesional_id`)
	} else {
		rows, err = ix.pool.Query(ctx, cols+` WHERE profesional_id = ANY ($1::uuid[]) ORDER BY profesional_id`, ids)
	}
	if err != nil {
		return nil, fmt.Errorf("search index: load: %w", pg.Translate(err))
	}
	defer rows.Close()
	var out []*perfil
	var cur *perfil
	for rows.Next() {
		var p perfil
		var oficioID, oficioNombre string
		var lat, lng, ux, uy, uz, cosCob *float64
		if err := rows.Scan(&p.id, &oficioID, &oficioNombre, &p.oficios, &p.nombre, &p.apellido, &p.avatarURL, &p.texto,
			&lat, &lng, &ux, &uy, &uz, &cosCob, &p.radioKm, &p.aceptaInstant, &p.tarifa, &p.rating, &p.resenas,
			&p.nivel, &p.nivelRank, &p.puntos); err != nil {
			return nil, fmt.Errorf("search index: load: %w", err)
		}
		if cur == nil || cur.id != p.id {
			if lat != nil && lng != nil && ux != nil && uy != nil && uz != nil && cosCob != nil {
				p.located = true
				p.lat, p.lng, p.ux, p.uy, p.uz, p.cosCobertura = *lat, *lng, *ux, *uy, *uz, *cosCob
			}
			if p.oficios == nil {
				p.oficios = []string{}
			}
			cur = &p
			out = append(out, cur)
		}
		cur.shardKeys = append(cur.shardKeys, oficioID)
		cur.oficioNombres = append(cur.oficioNombres, oficioNombre)
		if oficioID != AnyOficio {
			cur.oficioIDs = append(cur.oficioIDs, oficioID)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("search index: load: %w", pg.Translate(err))
	}
	return out, nil
}

// replace swaps in a whole new index built from pros.
func (ix *searchIndex) replace(pros []*perfil) {
	shards := map[string]*shard{}
	byID := make(map[string]*perfil, len(pros))
	for _, p := range pros {
		byID[p.id] = p
		ix.insert(shards, p)
	}
	ix.mu.Lock()
	ix.shards, ix.pros = shards, byID
	ix.mu.Unlock()
}

// apply replaces the professionals ids with pros (an id missing from pros is no longer
// visible).
func (ix *searchIndex) apply(ids []string, pros []*perfil) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	for _, id := range ids {
		if old := ix.pros[id]; old != nil {
			ix.remove(old)
			delete(ix.pros, id)
		}
	}
	for _, p := range pros {
		ix.pros[p.id] = p
		ix.insert(ix.shards, p)
	}
}

func (ix *searchIndex) insert(shards map[string]*shard, p *perfil) {
	for i, key := range p.shardKeys {
		sh := shards[key]
		if sh == nil {
			sh = &shard{}
			shards[key] = sh
		}
		c := ix.cellOf(sh, p, true)
		c.add(p, i)
	}
}

// remove marks p's entries dead and compacts the cells it leaves mostly dead.
func (ix *searchIndex) remove(p *perfil) {
	for _, key := range p.shardKeys {
		sh := ix.shards[key]
		if sh == nil {
			continue
		}
		c := ix.cellOf(sh, p, false)
		if c == nil {
			continue
		}
		for i := range c.entries {
			if e := &c.entries[i]; e.p == p && !e.dead {
				e.dead = true
				c.dead++
			}
		}
		if c.dead*2 > len(c.entries) {
			c.compact()
		}
	}
}

// cellOf returns p's cell in sh, creating it when create is set.
func (ix *searchIndex) cellOf(sh *shard, p *perfil, create bool) *cell {
	if !p.located {
		return &sh.unlocated
	}
	g := &sh.bands[band(p.radioKm)]
	k := ix.key(p.lat, p.lng)
	c := g.cells[k]
	if c == nil && create {
		if g.cells == nil {
			g.cells = map[cellKey]*cell{}
		}
		c = &cell{}
		g.cells[k] = c
	}
	if create && p.radioKm > g.maxKm {
		g.maxKm = p.radioKm
	}
	return c
}

func band(radioKm int) int {
	for i, km := range bandKm {
		if radioKm <= km {
			return i
		}
	}
	return len(bandKm)
}

func (ix *searchIndex) key(lat, lng float64) cellKey {
	return cellKey{lat: int32(math.Floor((lat + 90) / cellDeg)), lng: wrap(int32(math.Floor((lng+180)/cellDeg)), gridCols)}
}

func wrap(i, n int32) int32 { return ((i % n) + n) % n }

// around calls fn with every cell of g that may hold a base within angle (radians) of
// the point: the cells of the cap's bounding box, or every cell when that is fewer.
func (ix *searchIndex) around(g *grid, lat, lng, angle float64, fn func(*cell)) {
	if len(g.cells) == 0 {
		return
	}
	const margin = 1e-6 // degrees: the box is a hair larger than the cap, never smaller
	d := angle * 180 / math.Pi
	latLo, latHi := lat-d-margin, lat+d+margin
	allLng := latLo <= -90 || latHi >= 90 || math.Sin(angle) >= math.Cos(lat*math.Pi/180)
	var lngLo, lngHi float64
	if !allLng {
		// The widest longitude of a cap that holds no pole.
		dl := math.Asin(math.Sin(angle)/math.Cos(lat*math.Pi/180))*180/math.Pi + margin
		lngLo, lngHi = lng-dl, lng+dl
	}
	r0, r1 := int32(math.Floor((max(latLo, -90)+90)/cellDeg)), int32(math.Floor((min(latHi, 90)+90)/cellDeg))
	n := gridCols
	c0, c1 := int32(0), n-1
	if !allLng {
		c0, c1 = int32(math.Floor((lngLo+180)/cellDeg)), int32(math.Floor((lngHi+180)/cellDeg))
		if c1-c0+1 >= n {
			c0, c1 = 0, n-1
		}
	}
	if int(r1-r0+1)*int(c1-c0+1) >= len(g.cells) {
		for _, c := range g.cells {
			fn(c)
		}
		return
	}
	for r := r0; r <= r1; r++ {
		for c := c0; c <= c1; c++ {
			if cl := g.cells[cellKey{lat: r, lng: wrap(c, n)}]; cl != nil {
				fn(cl)
			}
		}
	}
}

// Search answers p from the index once it holds every change committed before the call.
func (ix *searchIndex) Search(ctx context.Context, p SearchParams) ([]SearchResult, int, error) {
	var q string
	if p.Q != "" {
		// The texts are norm()ed by PostgreSQL (unaccent's rules, the database's
		// lower()); the query is too, so both sides agree letter for letter.
		if err := ix.pool.QueryRow(ctx, `SELECT norm($1::text)`, p.Q).Scan(&q); err != nil {
			return nil, 0, fmt.Errorf("search: %w", pg.Translate(err))
		}
	}
	if err := ix.Fresh(ctx); err != nil {
		return nil, 0, fmt.Errorf("search: %w", err)
	}
	m := newMatcher(p, q)
	if m == nil {
		return []SearchResult{}, 0, nil
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock() // the hits point into the cells
	if sh := ix.shards[m.shardKey]; sh != nil {
		ix.scan(sh, m)
	}
	return m.page(), m.total, nil
}

// scan offers m every entry of sh that may match.
func (ix *searchIndex) scan(sh *shard, m *matcher) {
	if !m.geo {
		for i := range sh.bands {
			for _, c := range sh.bands[i].cells {
				m.scanCell(c)
			}
		}
		m.scanCell(&sh.unlocated)
		return
	}
	for i := range sh.bands {
		g := &sh.bands[i]
		angle := m.radioM / earthRadiusM
		if m.coverage {
			angle = float64(g.maxKm) * 1000 / earthRadiusM
		}
		ix.around(g, *m.p.Lat, *m.p.Lng, angle, m.scanCell)
	}
}

// matcher filters the entries offered, counts them and keeps the best skip+limit of
// them in a heap whose root is the worst kept.
type matcher struct {
	p        SearchParams
	shardKey string
	multi    []string // a professional must have one of these trades
	q        string
	geo      bool
	coverage bool
	radioM   float64
	cosRadio float64
	x, y, z  float64
	order    string // the sort, SortRating when distance has no point
	k        int
	total    int
	heap     []hit
}

type hit struct {
	e   *entry  // valid while the index's read lock is held
	dot float64 // cosine of the angle to the point: larger is nearer
}

// newMatcher returns nil when p can match nobody.
func newMatcher(p SearchParams, q string) *matcher {
	m := &matcher{p: p, q: q, shardKey: AnyOficio, k: p.Skip + p.Limit}
	for _, id := range p.OficioIDs {
		if id != AnyOficio {
			m.multi = append(m.multi, id)
		}
	}
	switch {
	case p.OficioIDs != nil && len(m.multi) == 0:
		return nil // a filter naming no trade finds nobody
	case len(m.multi) == 1:
		m.shardKey, m.multi = m.multi[0], nil
	}
	if p.Lat != nil && p.Lng != nil {
		m.geo, m.coverage = true, p.Shape == ShapeCoverage
		m.x, m.y, m.z = unitVector(*p.Lat, *p.Lng)
		m.radioM = p.RadioM
		m.cosRadio = math.Cos(p.RadioM / earthRadiusM)
	}
	m.order = p.Sort
	if p.Sort == SortDistancia && !m.geo {
		m.order = SortRating // no point to measure from: the default order, as the SQL
	}
	return m
}

// less says whether a sorts before b. A method, not a func value per order: a pointer
// passed to a func value escapes, and the heap would allocate for every comparison.
func (m *matcher) less(a, b *hit) bool {
	x, y := a.e, b.e
	switch m.order {
	case SortDistancia:
		if a.dot != b.dot {
			return a.dot > b.dot
		}
	case SortPrecio:
		switch {
		case !x.hasTarifa && !y.hasTarifa:
		case !x.hasTarifa:
			return false // nulls last
		case !y.hasTarifa:
			return true
		case x.tarifa != y.tarifa:
			return x.tarifa < y.tarifa
		}
	case SortNivel:
		if x.nivelRank != y.nivelRank {
			return x.nivelRank > y.nivelRank
		}
		if x.puntos != y.puntos {
			return x.puntos > y.puntos
		}
	default:
		if x.rating != y.rating {
			return x.rating > y.rating
		}
		if x.resenas != y.resenas {
			return x.resenas > y.resenas
		}
	}
	return x.p.id < y.p.id
}

// scanCell offers the live rows of c that pass the geographic test: the loop every
// search spends its time in, kept free of calls and allocations until a row matches.
func (m *matcher) scanCell(c *cell) {
	if !m.geo {
		for i := range c.entries {
			if e := &c.entries[i]; !e.dead {
				m.offer(e, 0)
			}
		}
		return
	}
	ux, uy, uz, cos := c.ux, c.uy[:len(c.ux)], c.uz[:len(c.ux)], c.cos[:len(c.ux)]
	for i := range ux {
		dot := ux[i]*m.x + uy[i]*m.y + uz[i]*m.z
		if m.coverage && dot < cos[i] || !m.coverage && dot < m.cosRadio {
			continue
		}
		if e := &c.entries[i]; !e.dead {
			m.offer(e, dot)
		}
	}
}

// offer applies the other filters to e and keeps it when it sorts among the first k.
func (m *matcher) offer(e *entry, dot float64) {
	f := &m.p
	if f.RatingMin != nil && e.rating < *f.RatingMin ||
		f.PrecioMin != nil && (!e.hasTarifa || e.tarifa < *f.PrecioMin) ||
		f.PrecioMax != nil && (!e.hasTarifa || e.tarifa > *f.PrecioMax) ||
		f.AceptaInstant != nil && e.aceptaInstant != *f.AceptaInstant ||
		f.Nivel != "" && e.p.nivel != f.Nivel ||
		m.q != "" && !strings.Contains(e.p.texto, m.q) ||
		m.multi != nil && !slices.ContainsFunc(e.p.oficioIDs, func(id string) bool { return slices.Contains(m.multi, id) }) {
		return
	}
	m.total++
	if len(m.heap) < m.k {
		m.heap = append(m.heap, hit{e: e, dot: dot})
		m.up(len(m.heap) - 1)
		return
	}
	if h := (hit{e: e, dot: dot}); m.k > 0 && m.less(&h, &m.heap[0]) {
		m.heap[0] = h
		m.down(0)
	}
}

// The heap is ordered so that the root sorts last of all it keeps.
func (m *matcher) up(i int) {
	for i > 0 {
		parent := (i - 1) / 2
		if !m.less(&m.heap[parent], &m.heap[i]) {
			return
		}
		m.heap[parent], m.heap[i] = m.heap[i], m.heap[parent]
		i = parent
	}
}

func (m *matcher) down(i int) {
	n := len(m.heap)
	for {
		worst := i
		for _, c := range [2]int{2*i + 1, 2*i + 2} {
			if c < n && m.less(&m.heap[worst], &m.heap[c]) {
				worst = c
			}
		}
		if worst == i {
			return
		}
		m.heap[worst], m.heap[i] = m.heap[i], m.heap[worst]
		i = worst
	}
}

// page sorts what the heap kept and returns the rows after skip.
func (m *matcher) page() []SearchResult {
	slices.SortFunc(m.heap, func(a, b hit) int {
		if m.less(&a, &b) {
			return -1
		}
		if m.less(&b, &a) {
			return 1
		}
		return 0
	})
	out := []SearchResult{}
	for i := m.p.Skip; i < len(m.heap); i++ {
		h := &m.heap[i]
		p := h.e.p
		r := SearchResult{ID: p.id, ProfesionalID: p.id, Nombre: p.nombre, Apellido: p.apellido, Oficio: p.oficioNombres[h.e.slot],
			Oficios: p.oficios, TarifaPorHora: centavosPtr(p.tarifa), CalificacionPromedio: p.rating,
			CantidadResenas: p.resenas, NivelProfesional: p.nivel, Nivel: p.nivel, PuntosExperiencia: p.puntos,
			AvatarURL: p.avatarURL}
		if m.geo && p.located {
			km := math.Round(sphereDistance(p, m.x, m.y, m.z)) / 1000 // metres → km with 3 decimals
			r.DistanciaKm = &km
		}
		out = append(out, r)
	}
	return out
}

// sphereDistance is the great-circle distance in metres from p's base to the unit vector
// (x, y, z): atan2 of the cross and dot products, exact at every distance, where acos of
// the dot product alone loses metres near zero.
func sphereDistance(p *perfil, x, y, z float64) float64 {
	cx, cy, cz := p.uy*z-p.uz*y, p.uz*x-p.ux*z, p.ux*y-p.uy*x
	return earthRadiusM * math.Atan2(math.Sqrt(cx*cx+cy*cy+cz*cz), p.ux*x+p.uy*y+p.uz*z)
}
