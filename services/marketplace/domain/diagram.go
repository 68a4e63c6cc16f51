package domain

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Mermaid renders the machine's work states as a Mermaid stateDiagram: one edge per
// (state it leaves, move), labelled with the move, who makes it, its money guard and
// effect, and the timer or event that fires it. Moves that only touch the money are
// drawn on their work state as a loop.
func (m Machine) Mermaid() string {
	var b strings.Builder
	b.WriteString("stateDiagram-v2\n")
	for _, t := range m.Transitions {
		label := edgeLabel(t, true)
		if t.Creates {
			fmt.Fprintf(&b, "    [*] --> %s : %s\n", t.To, label)
			continue
		}
		for _, from := range t.From {
			for _, to := range m.targets(t, from) {
				fmt.Fprintf(&b, "    %s --> %s : %s\n", from, to, label)
			}
		}
	}
	for _, s := range m.Final {
		fmt.Fprintf(&b, "    %s --> [*]\n", s)
	}
	return b.String()
}

// MoneyMermaid renders the job's money state (estado_escrow) as a Mermaid stateDiagram:
// every move that sets it, from each money state its guard accepts.
func (m Machine) MoneyMermaid() string {
	var b strings.Builder
	b.WriteString("stateDiagram-v2\n")
	for _, t := range m.Transitions {
		if t.EscrowTo == "" {
			continue
		}
		label := edgeLabel(t, false)
		if t.Creates {
			fmt.Fprintf(&b, "    [*] --> %s : %s\n", t.EscrowTo, label)
			continue
		}
		for _, from := range t.EscrowFrom {
			fmt.Fprintf(&b, "    %s --> %s : %s\n", from, t.EscrowTo, label)
		}
	}
	for _, s := range m.EscrowStates {
		if !slices.ContainsFunc(m.Transitions, func(t Transition) bool { return t.EscrowTo != "" && slices.Contains(t.EscrowFrom, s) }) {
			fmt.Fprintf(&b, "    %s --> [*]\n", s)
		}
	}
	return b.String()
}

// targets are the states t enters from from: its To, the state it leaves for a move
// that keeps the work state, or every state a dispute can be opened from for ToPrevio.
func (m Machine) targets(t Transition, from string) []string {
	switch t.To {
	case "":
		return []string{from}
	case ToPrevio:
		if d, ok := m.Move(TrabajoDisputar); ok {
			return d.From
		}
	}
	return []string{t.To}
}

// edgeLabel is "move · roles · guard · what fires it". work labels the work diagram
// (the money effect is named); otherwise the money diagram (the work effect is named).
func edgeLabel(t Transition, work bool) string {
	parts := []string{t.Move}
	roles := make([]string, len(t.Roles))
	for i, r := range t.Roles {
		roles[i] = string(r)
	}
	parts = append(parts, strings.Join(roles, "/"))
	if work {
		if len(t.EscrowFrom) > 0 {
			parts = append(parts, "escrow "+strings.Join(t.EscrowFrom, ", "))
		}
		if t.EscrowTo != "" {
			parts = append(parts, "escrow → "+t.EscrowTo)
		}
	} else if t.To != "" {
		parts = append(parts, "estado → "+t.To)
	}
	if t.BeforeExpiry {
		parts = append(parts, "antes de expires_at")
	}
	if t.Timer != nil {
		parts = append(parts, fmt.Sprintf("⏱ %s %s (%s)", durationText(t.Timer.Default), t.Timer.Since, timerSetting(*t.Timer, false)))
	}
	if t.Trigger != "" {
		parts = append(parts, "⚡ "+t.Trigger)
	}
	// Mermaid ends a label at a semicolon or newline and reads # as an entity.
	return strings.NewReplacer(";", ",", "#", "nº", "\n", " ").Replace(strings.Join(parts, " · "))
}

// timerSetting names a timer's setting (as code in the table) and, when another service
// runs it, that service: its timer is why the row's event arrives.
func timerSetting(t Timer, code bool) string {
	s := t.Setting
	if code {
		s = "`" + s + "`"
	}
	if t.Service != "" {
		s += ", " + t.Service
	}
	return s
}

// durationText says a timer in hours, as the settings are usually written.
func durationText(d time.Duration) string {
	return fmt.Sprintf("%d h", d/time.Hour)
}

// LifecycleDoc is docs/lifecycle.md: the machines as diagrams and as a table. It is
// generated (go test ./domain -run TestLifecycleDoc -update) and a test fails when the
// file differs, so the document cannot drift from the rules the handlers enforce.
func LifecycleDoc() string {
	var b strings.Builder
	b.WriteString(`# Marketplace lifecycle

<!-- Generated from services/marketplace/domain/lifecycle.go by domain.LifecycleDoc.
     Do not edit: change the table and run
     (cd services/marketplace && go test ./domain -run TestLifecycleDoc -update). -->

The offer and job state machines, declared once as data in
` + "`services/marketplace/domain/lifecycle.go`" + `. The handlers refuse every move the table does
not allow (403 for the wrong role, 400 for the wrong state, a failed money guard or an
expired offer) and change nothing; the expiry and automatic-approval loops select their
rows from the same table; payments' events apply when the money guard holds. Two guards
live beside the table: a dispute is resolved or withdrawn only while the dispute itself is
ABIERTA (the job follows only if still DISPUTADO: a chargeback may have settled it), and a
checkout is annulled only while it is still pending.

Roles: **cliente** and **profesional** are the parties of that offer or job, **admin** an
administrator who is not a party, **system** the service itself (a timer ⏱ or another
context's event ⚡). A move fired by an event is a fact decided elsewhere (payments moved
the money): only its money guard decides, from whatever work state; the diagram draws it
where it normally lands. A timer that names another service (` + "`CHECKOUT_TTL, payments`" + `) runs
in that service, which then sends the row's event.

`)
	offer, job := OfferMachine(), JobMachine()
	section := func(title, intro, diagram string) {
		fmt.Fprintf(&b, "## %s\n\n%s\n\n```mermaid\n%s```\n\n", title, intro, diagram)
	}
	// The SVG diagram (Machine.SVG, also served at /docs/lifecycle) of each machine.
	image := func(m Machine) string {
		return fmt.Sprintf("![The %s lifecycle](%s)\n\nThe same rows as text:", m.Name, m.SVGFile())
	}
	section("Offer (`ofertas.estado`)", "An offer is open (OFERTADO) until its client answers, its professional withdraws it or it expires.\n\n"+image(offer), offer.Mermaid())
	section("Job: work state (`trabajos.estado`)", "Edges name the money state (`estado_escrow`) the move requires and the one it sets.\n\n"+image(job), job.Mermaid())
	section("Job: money state (`trabajos.estado_escrow`)", "Only payments' events move the money once it is held; the client's and the admin's moves ask payments to move it.", job.MoneyMermaid())
	b.WriteString("## Every move\n\n")
	for _, m := range []Machine{offer, job} {
		fmt.Fprintf(&b, "### %s\n\n| move | from | to | estado_escrow | who | fired by | also |\n|---|---|---|---|---|---|---|\n", m.Name)
		for _, t := range m.Transitions {
			from := strings.Join(t.From, ", ")
			if t.Creates {
				from = "—"
			}
			to := t.To
			if to == "" {
				to = "(igual)"
			}
			money := ""
			if len(t.EscrowFrom) > 0 {
				money = strings.Join(t.EscrowFrom, ", ")
			}
			if t.EscrowTo != "" {
				money += " → " + t.EscrowTo
			}
			roles := make([]string, len(t.Roles))
			for i, r := range t.Roles {
				roles[i] = string(r)
			}
			var fired []string
			if t.Timer != nil {
				fired = append(fired, fmt.Sprintf("⏱ %s %s (%s)", durationText(t.Timer.Default), t.Timer.Since, timerSetting(*t.Timer, true)))
			}
			if t.Trigger != "" {
				fired = append(fired, "⚡ "+t.Trigger)
			}
			also := t.Note
			if t.BeforeExpiry {
				also = strings.TrimPrefix(also+"; antes de expires_at", "; ")
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s |\n", t.Move, from, to, strings.TrimSpace(money), strings.Join(roles, ", "),
				strings.Join(fired, " → "), also)
		}
		b.WriteString("\n")
	}
	b.WriteString("No dispute deadline exists in the rules: an open dispute waits for an administrator.\n")
	return b.String()
}
