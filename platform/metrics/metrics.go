// Package metrics holds a Prometheus registry per process component (no global
// registry), the HTTP middleware that measures requests, and the series the event
// machinery reports: outbox backlog and age, consumer lag, redeliveries and dead letters.
//
// Every label value this package records is either a constant it owns (the HTTP method
// set, the status code) or a string the application owns (the route template): never a
// view of a request buffer, which the next request would overwrite after the series is
// registered (the cause of duplicate series and a failing /metrics).
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
	Reg *prometheus.Registry
	// Registerer adds the constant label service=<name> to what it registers; components
	// register their own series through it.
	Registerer      prometheus.Registerer
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
		Reg:        reg,
		Registerer: f,
		HTTPDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "http_request_duration_seconds", Help: "HTTP request latency by method, route template and status.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"method", "route", "status"}),
		OutboxBacklog: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "outbox_backlog", Help: "Outbox rows not yet published.",
		}, []string{"schema"}),
		OutboxPublished: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "outbox_published_total", Help: "Events published from the outbox.",
		}, []string{"schema"}),
		ConsumerLag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "consumer_lag", Help: "Messages pending or unacknowledged for a durable consumer.",
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
			Name: "business_outcomes_total", Help: "Domain outcomes (webhooks, emails, pushes, payouts, …) by what and outcome.",
		}, []string{"what", "outcome"}),
	}
	f.MustRegister(r.HTTPDuration, r.OutboxBacklog, r.OutboxPublished, r.ConsumerLag, r.Handled,
		r.Redeliveries, r.DeadLetters, r.EventLatency, r.Business)
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return r
}

// Outcomes returns a counter of one domain outcome family (what = "webhook",
// "delivery_email", …). The outcomes named up front are exported at zero from the
// start, so dashboards and rate() see the series before the first occurrence.
func (r *Registry) Outcomes(what string, known ...string) func(outcome string) {
	for _, o := range known {
		r.Business.WithLabelValues(what, o)
	}
	return func(outcome string) { r.Business.WithLabelValues(what, outcome).Inc() }
}

// Consumer exports the consumer's series at zero before its first event, so a
// dashboard shows every durable (and a zero dead-letter rate) from the start.
func (r *Registry) Consumer(name string) {
	r.Handled.WithLabelValues(name, "ok")
	r.Redeliveries.WithLabelValues(name)
	r.DeadLetters.WithLabelValues(name)
	r.ConsumerLag.WithLabelValues(name)
}

// routeKey is the Locals key under which a handler may name its route template.
const routeKey = "metrics.route"

// SetRoute names the route template of the request for the HTTP metrics when Fiber's
// own route is too coarse (the gateway's single catch-all proxy route). template must be
// one of a bounded set owned by the caller, never a piece of the request.
func SetRoute(c *fiber.Ctx, template string) { c.Locals(routeKey, template) }

// methods maps the methods the API uses to constants: the label never aliases the
// request buffer and an invented method cannot add series.
var methods = map[string]string{
	fiber.MethodGet: fiber.MethodGet, fiber.MethodHead: fiber.MethodHead, fiber.MethodPost: fiber.MethodPost,
	fiber.MethodPut: fiber.MethodPut, fiber.MethodPatch: fiber.MethodPatch, fiber.MethodDelete: fiber.MethodDelete,
	fiber.MethodOptions: fiber.MethodOptions, fiber.MethodConnect: fiber.MethodConnect, fiber.MethodTrace: fiber.MethodTrace,
}

// MethodLabel returns the constant label for method, "OTHER" for anything else.
func MethodLabel(method string) string {
	if m, ok := methods[method]; ok {
		return m
	}
	return "OTHER"
}

// Unmatched is the route label of requests no route claimed (404s of unknown paths).
const Unmatched = "unmatched"

// FiberMiddleware observes every request by its route template (not its raw path, which
// would explode cardinality with ids). An error from the chain is turned into its answer
// here, through the app's error handler, so the status label is the one the client gets
// (a handler's apperr 404 is observed as 404, not as the 200 the response held before).
func (r *Registry) FiberMiddleware() fiber.Handler {
	return func(c *fiber.Ctx) error {
		start := time.Now()
		// Read before Next: a handler may override the method (Fiber's Method(override)).
		method := MethodLabel(c.Method())
		observed := false
		observe := func(status int) {
			observed = true
			r.HTTPDuration.WithLabelValues(method, routeLabel(c), StatusLabel(status)).Observe(time.Since(start).Seconds())
		}
		defer func() {
			// A panic unwinds to the recover middleware above: count it as the 500 it becomes.
			if !observed {
				observe(fiber.StatusInternalServerError)
			}
		}()
		if err := c.Next(); err != nil {
			if herr := c.App().ErrorHandler(c, err); herr != nil {
				_ = c.SendStatus(fiber.StatusInternalServerError)
			}
		}
		observe(c.Response().StatusCode())
		return nil
	}
}

// statusLabels are the status codes' labels, made once: strconv.Itoa allocates the
// label of every code above 99 on every request.
var statusLabels = func() (l [600]string) {
	for i := range l {
		l[i] = strconv.Itoa(i)
	}
	return l
}()

// StatusLabel is status's label.
func StatusLabel(status int) string {
	if status >= 0 && status < len(statusLabels) {
		return statusLabels[status]
	}
	return strconv.Itoa(status)
}

func routeLabel(c *fiber.Ctx) string {
	if v, ok := c.Locals(routeKey).(string); ok && v != "" {
		return v
	}
	// The matched route's Path is the template the app registered ("/users/:id"), a
	// string the app owns. "/" is the app.Use catch-all (middleware, NotFound).
	if rt := c.Route(); rt != nil && rt.Path != "/" && rt.Path != "" && rt.Path != "*" && rt.Path != "/*" {
		return rt.Path
	}
	return Unmatched
}

// Handler serves the registry in the Prometheus text format.
func (r *Registry) Handler() fiber.Handler {
	h := fasthttpadaptor.NewFastHTTPHandler(promhttp.HandlerFor(r.Reg, promhttp.HandlerOpts{}))
	return func(c *fiber.Ctx) error {
		h(c.Context())
		return nil
	}
}
