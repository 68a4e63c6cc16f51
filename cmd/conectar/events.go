package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/events/consumer"
	"github.com/conectarpro/conectar/events/outbox"
	"github.com/conectarpro/conectar/platform/config"
	"github.com/conectarpro/conectar/platform/kit"
	"github.com/conectarpro/conectar/platform/logx"
)

const eventsUsage = `usage: conectar events <subcommand>

  streams                                   list streams with message counts
  consumers [--stream S]                    list durable consumers with pending and redelivered counts
  tail <subject> [--since 10m]              print events on a subject (wildcards allowed) as they arrive
  replay --handler H --since T [--consumer C] [--service SVC]
                                            run handler H (a consumer name, e.g. professionals-readmodel)
                                            over its events since T (RFC 3339 or a duration like 2h);
                                            under H's own name it is a no-op (the inbox has them), under a
                                            new name C it reprocesses them
  rebuild --handler H                       replay H from the beginning under a fresh name (read models;
                                            the events H would publish are not published again;
                                            empty the read model first, see docs/events.md)
  dlq list [--consumer C]                   list dead letters with their reason
  dlq redrive (--seq N | --consumer C)      republish dead letters to their original subject, then remove them
`

func runEvents(ctx context.Context, args []string, getenv config.Getenv, stdout io.Writer) error {
	if len(args) == 0 || args[0] == "help" {
		fmt.Fprint(stdout, eventsUsage)
		return nil
	}
	s, err := loadSettings(getenv)
	if err != nil {
		return err
	}
	nc, err := nats.Connect(s.NATSURL, nats.Name("conectar-events"), nats.Timeout(5*time.Second))
	if err != nil {
		return fmt.Errorf("events: connect %s: %w", s.NATSURL, err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	sub, rest := args[0], args[1:]
	switch sub {
	case "streams":
		return listStreams(ctx, js, stdout)
	case "consumers":
		fs := flag.NewFlagSet("consumers", flag.ContinueOnError)
		stream := fs.String("stream", "", "only this stream")
		if err := fs.Parse(rest); err != nil {
			return err
		}
		return listConsumers(ctx, js, *stream, stdout)
	case "tail":
		return tail(ctx, js, rest, stdout)
	case "replay", "rebuild":
		return replay(ctx, s, getenv, sub == "rebuild", rest, stdout)
	case "dlq":
		return dlq(ctx, js, rest, stdout)
	}
	return fmt.Errorf("events: unknown subcommand %q\n%s", sub, eventsUsage)
}

func listStreams(ctx context.Context, js jetstream.JetStream, w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STREAM\tSUBJECTS\tMESSAGES\tBYTES\tFIRST\tLAST\tCONSUMERS")
	l := js.ListStreams(ctx)
	for info := range l.Info() {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\n", info.Config.Name, strings.Join(info.Config.Subjects, ","),
			info.State.Msgs, info.State.Bytes, info.State.FirstSeq, info.State.LastSeq, info.State.Consumers)
	}
	if err := l.Err(); err != nil {
		return fmt.Errorf("list streams: %w", err)
	}
	return tw.Flush()
}

func listConsumers(ctx context.Context, js jetstream.JetStream, only string, w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STREAM\tCONSUMER\tFILTER\tPENDING\tACK_PENDING\tREDELIVERED\tDELIVERED")
	for _, st := range events.Streams() {
		if only != "" && st.Name != only {
			continue
		}
		stream, err := js.Stream(ctx, st.Name)
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("stream %s: %w", st.Name, err)
		}
		l := stream.ListConsumers(ctx)
		for info := range l.Info() {
			filter := info.Config.FilterSubject
			if len(info.Config.FilterSubjects) > 0 {
				filter = strings.Join(info.Config.FilterSubjects, ",")
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%d\n", st.Name, info.Name, filter, info.NumPending,
				info.NumAckPending, info.NumRedelivered, info.Delivered.Stream)
		}
		if err := l.Err(); err != nil {
			return fmt.Errorf("list consumers of %s: %w", st.Name, err)
		}
	}
	return tw.Flush()
}

// parseSince reads an RFC 3339 time or a duration back from now.
func parseSince(v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, errors.New("--since is required")
	}
	if d, err := time.ParseDuration(v); err == nil {
		return time.Now().Add(-d), nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("--since %q: want RFC 3339 or a duration: %w", v, err)
	}
	return t, nil
}

func tail(ctx context.Context, js jetstream.JetStream, args []string, w io.Writer) error {
	fs := flag.NewFlagSet("tail", flag.ContinueOnError)
	since := fs.String("since", "", "start this far back (duration or RFC 3339); default: only new events")
	if len(args) == 0 {
		return errors.New("tail: name a subject, e.g. marketplace.offer.> or '>'")
	}
	subject := args[0]
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	stream := events.StreamFor(strings.TrimSuffix(subject, ">") + "x")
	if stream == "" {
		return fmt.Errorf("tail: no stream stores %q", subject)
	}
	cfg := jetstream.OrderedConsumerConfig{FilterSubjects: []string{subject}, DeliverPolicy: jetstream.DeliverNewPolicy}
	if *since != "" {
		t, err := parseSince(*since)
		if err != nil {
			return err
		}
		cfg.DeliverPolicy, cfg.OptStartTime = jetstream.DeliverByStartTimePolicy, &t
	}
	c, err := js.OrderedConsumer(ctx, stream, cfg)
	if err != nil {
		return fmt.Errorf("tail: %w", err)
	}
	it, err := c.Messages()
	if err != nil {
		return err
	}
	go func() { <-ctx.Done(); it.Stop() }()
	for {
		m, err := it.Next()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		meta, _ := m.Metadata()
		fmt.Fprintf(w, "#%d %s %s\n", meta.Sequence.Stream, m.Subject(), m.Data())
	}
}

// replay runs one handler of one service over past events under a new durable, until it
// has caught up. The service is built exactly as serve builds it (same handlers, same
// database role), but only the chosen consumer runs.
func replay(ctx context.Context, s settings, getenv config.Getenv, rebuild bool, args []string, w io.Writer) error {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	handler := fs.String("handler", "", "consumer whose handler runs (e.g. professionals-readmodel)")
	sinceFlag := fs.String("since", "", "replay events since (RFC 3339 or duration)")
	name := fs.String("consumer", "", "inbox name: the handler's own (no-op) or a new one (reprocess)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *handler == "" {
		return errors.New("replay: --handler is required")
	}
	since := time.Unix(0, 0)
	if rebuild {
		// Nanoseconds: a second rebuild started within the same second under the same
		// inbox name would find every event claimed and silently apply nothing.
		*name = fmt.Sprintf("%s-rebuild-%d", *handler, time.Now().UnixNano())
	} else {
		t, err := parseSince(*sinceFlag)
		if err != nil {
			return err
		}
		since = t
	}
	if *name == "" {
		*name = *handler
	}
	log := logx.New(os.Stderr, "conectar-events", s.LogLevel)
	in, err := openInfra(ctx, s, log)
	if err != nil {
		return err
	}
	defer in.close()
	svcName, _, _ := strings.Cut(*handler, "-")
	var spec *consumer.Spec
	var svc *kit.Service
	for _, d := range serviceDefs() {
		if d.name != svcName {
			continue
		}
		pool, err := in.servicePool(ctx, s, getenv, d.name)
		if err != nil {
			return err
		}
		svc, err = d.new(ctx, kit.Deps{Log: log, Pool: pool, NC: in.nc, JS: in.js, Verifier: in.verifier, Env: getenv,
			PublicURL: s.PublicURL, ServiceURLs: s.ServiceURLs})
		if err != nil {
			return err
		}
		for _, sp := range svc.Runner.Specs {
			if sp.Name == *handler {
				sp := sp
				spec = &sp
			}
		}
	}
	if spec == nil {
		return fmt.Errorf("replay: no consumer named %q (names start with their service: professionals-…)", *handler)
	}
	r := *spec
	if rebuild {
		// A rebuild reconstructs the handler's own state; what the handler publishes
		// was published the first time and must not reach anyone again.
		handle := r.Handle
		r.Handle = func(ctx context.Context, tx pgx.Tx, env events.Envelope) error {
			return handle(outbox.Muted(ctx), tx, env)
		}
	}
	r.InboxName = *name
	r.Name = fmt.Sprintf("%s-replay-%d", *name, time.Now().UnixNano())
	r.StartTime = &since
	r.InactiveThreshold = time.Hour
	runner := &consumer.Runner{Pool: svc.Deps.Pool, JS: in.js, Log: log, Specs: []consumer.Spec{r}}
	if err := runner.Start(ctx); err != nil {
		return err
	}
	defer runner.Stop()
	fmt.Fprintf(w, "replaying %s since %s under inbox name %s (durable %s)\n", *handler, since.Format(time.RFC3339), *name, r.Name)
	cons, err := in.js.Consumer(ctx, r.Stream, r.Name)
	if err != nil {
		return err
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
		info, err := cons.Info(ctx)
		if err != nil {
			return err
		}
		if info.NumPending == 0 && info.NumAckPending == 0 {
			fmt.Fprintf(w, "caught up: %d events delivered\n", info.Delivered.Stream)
			if err := in.js.DeleteConsumer(ctx, r.Stream, r.Name); err != nil {
				return fmt.Errorf("replay: delete durable %s: %w", r.Name, err)
			}
			return deadLettered(ctx, in.js, r.Name)
		}
	}
}

// deadLettered fails when the replay durable name parked events in the DLQ: "caught up"
// then means those events were given up on, and a read model rebuilt without them is
// not the live one. The durable is gone by then, so the operator fixes the cause and
// runs the replay again.
func deadLettered(ctx context.Context, js jetstream.JetStream, durable string) error {
	stream, err := js.Stream(ctx, events.StreamDLQ)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("replay: dlq: %w", err)
	}
	subject := events.DLQSubject(durable)
	info, err := stream.Info(ctx, jetstream.WithSubjectFilter(subject))
	if err != nil {
		return fmt.Errorf("replay: dlq: %w", err)
	}
	if n := info.State.Subjects[subject]; n > 0 {
		return fmt.Errorf("replay: %d events went to the DLQ instead of being applied (conectar events dlq list --consumer %s)", n, durable)
	}
	return nil
}

func dlq(ctx context.Context, js jetstream.JetStream, args []string, w io.Writer) error {
	if len(args) == 0 {
		return errors.New("dlq: list or redrive")
	}
	fs := flag.NewFlagSet("dlq", flag.ContinueOnError)
	name := fs.String("consumer", "", "only dead letters of this consumer")
	seq := fs.Uint64("seq", 0, "one dead letter by its DLQ sequence")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	stream, err := js.Stream(ctx, events.StreamDLQ)
	if err != nil {
		return fmt.Errorf("dlq: %w", err)
	}
	var msgs []*jetstream.RawStreamMsg
	if *seq != 0 {
		m, err := stream.GetMsg(ctx, *seq)
		if err != nil {
			return fmt.Errorf("dlq: message %d: %w", *seq, err)
		}
		msgs = append(msgs, m)
	} else {
		filter := "dlq.>"
		if *name != "" {
			filter = events.DLQSubject(*name)
		}
		c, err := js.OrderedConsumer(ctx, events.StreamDLQ, jetstream.OrderedConsumerConfig{FilterSubjects: []string{filter}})
		if err != nil {
			return err
		}
		for {
			m, err := c.Next(jetstream.FetchMaxWait(500 * time.Millisecond))
			if err != nil {
				break
			}
			meta, _ := m.Metadata()
			raw, err := stream.GetMsg(ctx, meta.Sequence.Stream)
			if err == nil {
				msgs = append(msgs, raw)
			}
			if meta.NumPending == 0 {
				break
			}
		}
	}
	switch args[0] {
	case "list":
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SEQ\tCONSUMER\tSUBJECT\tDELIVERIES\tTIME\tREASON")
		for _, m := range msgs {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", m.Sequence, m.Header.Get(consumer.HdrConsumer), m.Header.Get(consumer.HdrSubject),
				m.Header.Get(consumer.HdrDeliveries), m.Time.UTC().Format(time.RFC3339), m.Header.Get(consumer.HdrReason))
		}
		return tw.Flush()
	case "redrive":
		if *seq == 0 && *name == "" {
			return errors.New("dlq redrive: name --seq or --consumer")
		}
		for _, m := range msgs {
			subject := m.Header.Get(consumer.HdrSubject)
			if subject == "" {
				continue
			}
			// A fresh message id: the original is likely still inside the dedupe window.
			// Consumers that already applied the event skip it through their inbox.
			id := m.Header.Get(consumer.HdrEventID) + ":redrive:" + strconv.FormatUint(m.Sequence, 10)
			if _, err := js.Publish(ctx, subject, m.Data, jetstream.WithMsgID(id)); err != nil {
				return fmt.Errorf("redrive %d: %w", m.Sequence, err)
			}
			if err := stream.DeleteMsg(ctx, m.Sequence); err != nil {
				return fmt.Errorf("redrive %d: remove from DLQ: %w", m.Sequence, err)
			}
			fmt.Fprintf(w, "redriven #%d to %s\n", m.Sequence, subject)
		}
		return nil
	}
	return fmt.Errorf("dlq: unknown subcommand %q", args[0])
}
