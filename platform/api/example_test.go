package api_test

import (
	"fmt"

	"github.com/gofiber/fiber/v2"

	"github.com/conectarpro/conectar/platform/api"
	"github.com/conectarpro/conectar/platform/apperr"
)

// A service declares each operation once, in its composition root: the registry mounts
// the handler behind the access middleware and describes the operation.
func Example() {
	app := fiber.New()
	requireToken := func(c *fiber.Ctx) error { return c.Next() } // kit.Service.Auth() in a service
	reg := api.New(app, api.Config{Service: "notes", Title: "notes", Auth: requireToken, Common: api.StoreErrors()})

	type note struct {
		ID    string  `json:"id" jsonschema:"format=uuid"`
		Texto string  `json:"texto"`
		Color *string `json:"color"` // written as null when unset: nullable
	}
	type noteBody struct {
		Texto string `json:"texto" jsonschema:"required,minLength=1,maxLength=500"`
	}
	type notePath struct {
		ID string `path:"id" jsonschema:"format=uuid"`
	}
	errNoNote := apperr.NotFound("note_not_found", "Nota no encontrada")

	reg.Add(api.Op{Method: "PUT", Path: "/api/v1/notes/:id", Access: api.Authenticated, Summary: "Change a note",
		Params: notePath{}, Body: noteBody{}, Answers: []api.Answer{api.JSON(200, note{}, "the note")},
		Errors: []*apperr.Error{errNoNote}, Handler: func(c *fiber.Ctx) error { return c.JSON(note{}) }})
	if err := reg.Serve("/openapi.json"); err != nil { // the document, rendered once
		fmt.Println(err)
		return
	}
	doc, _ := reg.Document()
	op := doc.Paths["/api/v1/notes/{id}"].Put
	for _, status := range []string{"200", "401", "404", "413", "415", "422", "500", "503"} {
		fmt.Println(status, op.Responses[status].Description)
	}
	// Output:
	// 200 the note
	// 401 Unauthorized: invalid_token, not_authenticated, user_banned
	// 404 Not Found: note_not_found
	// 413 Request Entity Too Large: body_too_large
	// 415 Unsupported Media Type: unsupported_media_type
	// 422 Unprocessable Entity: validation_error
	// 500 Internal Server Error: internal_error
	// 503 Service Unavailable: db_retry, db_unavailable
}
