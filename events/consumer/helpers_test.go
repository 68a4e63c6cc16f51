package consumer_test

import (
	"encoding/json"

	"github.com/conectarpro/conectar/events"
)

func jsonOf(env events.Envelope) ([]byte, error) { return json.Marshal(env) }
