// Package metrics holds a Prometheus registry per process component (no global
// registry), the HTTP middleware that measures requests, and the counters the event
// machinery reports: outbox backlog, consumer lag, redeliveries and dead letters.
package metrics

import (
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"
)

// Registry is one component's metrics.
type Registry struct {
	Reg             *prometheus.Registry
	HTTPDuration    *prometheus.HistogramVec
	OutboxBacklog   *prometheus.GaugeVec
	OutboxPublished *prometheus.CounterVec
	ConsumerLag     *prometheus.GaugeVec
	Handled         *prometheus.CounterVec
	Redeliveries    *prometheus.CounterVec
	DeadLetters     *prometheus.CounterVec
	EventLatency    *prometheus.HistogramVec
	Business        *prometheus.CounterVec
}

// New creates a registry whose metrics carry the constant label service=name.
func New(name string) *Registry {
	reg := prometheus.NewRegistry()
	f := prometheus.WrapRegistererWith(prometheus.Labels{"service": name}, reg)
	r := &Registry{
		Reg: reg,
		HTTPDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "http_request_duration_seconds", Help: "HTTP request latency.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"method", "route", "status"}),
		OutboxBacklog: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "outbox_backlog", Help: "Outbox rows not yet published.",
		}, []string{"schema"}),
		OutboxPublished: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "outbox_published_total", Help: "Events published from the outbox.",
		}, []string{"schema"}),
		ConsumerLag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "consumer_lag", Help: "Messages pending for a durable consumer.",
		}, []string{"consumer"}),
		Handled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "events_handled_total", Help: "Event deliveries by outcome.",
		}, []string{"consumer", "outcome"}),
		Redeliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "event_redeliveries_total", Help: "Deliveries after the first.",
		}, []string{"consumer"}),
		DeadLetters: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "event_dead_letters_total", Help: "Messages sent to the DLQ.",
		}, []string{"consumer"}),
		EventLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "event_end_to_end_seconds", Help: "From event occurrence to the consumer's commit.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 5},
		}, []string{"consumer"}),
		Business: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "business_outcomes_total", Help: "Domain outcomes (payments approved, payouts failed, …).",
		}, []string{"what", "outcome"}),
	}
	f.MustRegister(r.HTTPDuration, r.OutboxBacklog, r.OutboxPublished, r.ConsumerLag, r.Handled,
		r.Redeliveries, r.DeadLetters, r.EventLatency, r.Business)
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return r
}

// FiberMiddleware observes every request by its route pattern (not its raw path, which
// would explode cardinality with ids).
func (r *Registry) FiberMiddleware() fiber.Handler {
	return func(c *fiber.Ctx) error {
		start := time.Now()
		err := c.Next()
		status := c.Response().StatusCode()
		if err != nil {
			if fe, ok := err.(*fiber.Error); ok {
				status = fe.Code
			}
		}
		route := "unmatched"
		if rt := c.Route(); rt != nil && rt.Path != "/" {
			route = rt.Path
		}
		r.HTTPDuration.WithLabelValues(c.Method(), route, strconv.Itoa(status)).Observe(time.Since(start).Seconds())
		return err
	}
}

// Handler serves the registry in the Prometheus text format.
func (r *Registry) Handler() fiber.Handler {
	h := fasthttpadaptor.NewFastHTTPHandler(promhttp.HandlerFor(r.Reg, promhttp.HandlerOpts{}))
	return func(c *fiber.Ctx) error {
		h(c.Context())
		return nil
	}
}
