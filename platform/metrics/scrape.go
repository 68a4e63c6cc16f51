package metrics

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
)

// scrapeTimeout bounds the queries a scrape makes (database, JetStream API): a slow
// dependency costs the scrape a gap, never a hung /metrics.
const scrapeTimeout = 2 * time.Second

// RowQuerier is what the outbox watcher needs of a pool.
type RowQuerier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// WatchOutbox exports, read at scrape time, the age of the oldest outbox row not yet
// published (0 when none): a relay that is stuck shows as a growing age even when the
// backlog count is small.
func (r *Registry) WatchOutbox(q RowQuerier, schema string) {
	desc := prometheus.NewDesc("outbox_oldest_pending_seconds",
		"Age of the oldest outbox row not yet published (0 when none).", nil, prometheus.Labels{"schema": schema})
	r.Registerer.MustRegister(collectFunc{descs: []*prometheus.Desc{desc}, collect: func(ch chan<- prometheus.Metric) {
		ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
		defer cancel()
		var age float64
		err := q.QueryRow(ctx, `SELECT COALESCE(EXTRACT(EPOCH FROM now() - min(occurred_at)), 0)::float8
			FROM outbox WHERE published_at IS NULL`).Scan(&age)
		if err != nil {
			return // a gap in the series, not a failed scrape (which would hide every other series)
		}
		ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, max(age, 0))
	}})
}

// ConsumerRef names one durable consumer.
type ConsumerRef struct{ Stream, Name string }

// WatchConsumers exports, read from JetStream at scrape time, each durable's pending
// and unacknowledged messages, its redelivered messages and the dead letters it parked
// in the DLQ stream (subject dlq.<consumer>) that are still there. list is called at
// every scrape, so durables registered after this call are included.
func (r *Registry) WatchConsumers(js jetstream.JetStream, dlqStream string, list func() []ConsumerRef) {
	labels := []string{"stream", "consumer"}
	pending := prometheus.NewDesc("jetstream_consumer_pending", "Messages not yet delivered to the durable.", labels, nil)
	ackPending := prometheus.NewDesc("jetstream_consumer_ack_pending", "Messages delivered and not yet acknowledged.", labels, nil)
	redelivered := prometheus.NewDesc("jetstream_consumer_redelivered", "Messages delivered more than once and not yet acknowledged.", labels, nil)
	dlq := prometheus.NewDesc("dead_letters_stored", "Dead letters of the durable kept in the DLQ stream.", []string{"consumer"}, nil)
	r.Registerer.MustRegister(collectFunc{descs: []*prometheus.Desc{pending, ackPending, redelivered, dlq}, collect: func(ch chan<- prometheus.Metric) {
		ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
		defer cancel()
		refs := list()
		for _, ref := range refs {
			c, err := js.Consumer(ctx, ref.Stream, ref.Name)
			if err != nil {
				continue // not created yet, or deleted by an operator: no series rather than a failed scrape
			}
			info, err := c.Info(ctx)
			if err != nil {
				continue
			}
			ch <- prometheus.MustNewConstMetric(pending, prometheus.GaugeValue, float64(info.NumPending), ref.Stream, ref.Name)
			ch <- prometheus.MustNewConstMetric(ackPending, prometheus.GaugeValue, float64(info.NumAckPending), ref.Stream, ref.Name)
			ch <- prometheus.MustNewConstMetric(redelivered, prometheus.GaugeValue, float64(info.NumRedelivered), ref.Stream, ref.Name)
		}
		if len(refs) == 0 {
			return
		}
		counts := map[string]uint64{}
		if s, err := js.Stream(ctx, dlqStream); err == nil {
			if info, err := s.Info(ctx, jetstream.WithSubjectFilter("dlq.>")); err == nil {
				counts = info.State.Subjects
			}
		}
		seen := map[string]bool{}
		for _, ref := range refs {
			if seen[ref.Name] {
				continue
			}
			seen[ref.Name] = true
			ch <- prometheus.MustNewConstMetric(dlq, prometheus.GaugeValue, float64(counts["dlq."+ref.Name]), ref.Name)
		}
	}})
}

// collectFunc is a collector whose values are read when scraped.
type collectFunc struct {
	descs   []*prometheus.Desc
	collect func(chan<- prometheus.Metric)
}

func (f collectFunc) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range f.descs {
		ch <- d
	}
}

func (f collectFunc) Collect(ch chan<- prometheus.Metric) { f.collect(ch) }

// GaugeFunc registers a gauge read at scrape time by read (a database sum, a count),
// bounded by the scrape timeout; an error leaves the scrape without the series and logs
// nothing (Prometheus shows the gap).
func (r *Registry) GaugeFunc(name, help string, read func(ctx context.Context) (float64, error)) {
	desc := prometheus.NewDesc(name, help, nil, nil)
	r.Registerer.MustRegister(collectFunc{descs: []*prometheus.Desc{desc}, collect: func(ch chan<- prometheus.Metric) {
		ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
		defer cancel()
		v, err := read(ctx)
		if err != nil {
			return // a gap in the series, not a failed scrape (which would hide every other series)
		}
		ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, v)
	}})
}

// GaugeVecFunc registers a gauge with one label read at scrape time (counts by state).
// The values named in known are exported at zero when read does not return them, so a
// dashboard sees every state from the start.
func (r *Registry) GaugeVecFunc(name, help, label string, known []string, read func(ctx context.Context) (map[string]float64, error)) {
	desc := prometheus.NewDesc(name, help, []string{label}, nil)
	r.Registerer.MustRegister(collectFunc{descs: []*prometheus.Desc{desc}, collect: func(ch chan<- prometheus.Metric) {
		ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
		defer cancel()
		vals, err := read(ctx)
		if err != nil {
			return // a gap in the series, not a failed scrape
		}
		for _, k := range known {
			if _, ok := vals[k]; !ok {
				ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, 0, k)
			}
		}
		for k, v := range vals {
			ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, v, k)
		}
	}})
}
