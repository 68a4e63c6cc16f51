package professionals

import (
	"github.com/conectarpro/conectar/platform/api"
	"github.com/conectarpro/conectar/platform/apperr"
	"github.com/conectarpro/conectar/platform/authn"
	"github.com/conectarpro/conectar/platform/upload"
)

// Path and query parameters.

type idPath struct {
	ID string `path:"id" jsonschema:"format=uuid"`
}

type itemImagePath struct {
	ID      string `path:"id" jsonschema:"format=uuid" doc:"the portfolio item"`
	ImageID string `path:"image_id" jsonschema:"format=uuid"`
}

type imageNamePath struct {
	Name string `path:"name" doc:"the object name the image URL ends with"`
}

type usuarioPath struct {
	UsuarioID string `path:"usuario_id" jsonschema:"format=uuid"`
}

// pageQuery is httpx.Paging's query: page (≥ 1) wins over skip.
type pageQuery struct {
	Skip  int `query:"skip" jsonschema:"minimum=0"`
	Page  int `query:"page" jsonschema:"minimum=1"`
	Limit int `query:"limit" jsonschema:"minimum=1,maximum=100"`
}

type serviciosQuery struct {
	Skip     int    `query:"skip" jsonschema:"minimum=0"`
	Page     int    `query:"page" jsonschema:"minimum=1"`
	Limit    int    `query:"limit" jsonschema:"minimum=1,maximum=100" doc:"default 50"`
	OficioID string `query:"oficio_id" jsonschema:"format=uuid" doc:"only this trade's services"`
}

type coverageQuery struct {
	OficioID      string  `query:"oficio_id" jsonschema:"required,format=uuid"`
	Lat           float64 `query:"lat" jsonschema:"required,minimum=-90,maximum=90"`
	Lng           float64 `query:"lng" jsonschema:"required,minimum=-180,maximum=180"`
	Nivel         string  `query:"nivel" jsonschema:"enum=BRONCE,enum=PLATA,enum=ORO,enum=DIAMANTE"`
	AceptaInstant bool    `query:"acepta_instant"`
	SortBy        string  `query:"sort_by" jsonschema:"enum=rating,enum=precio,enum=distancia,enum=nivel"`
	Skip          int     `query:"skip" jsonschema:"minimum=0"`
	Page          int     `query:"page" jsonschema:"minimum=1"`
	Limit         int     `query:"limit" jsonschema:"minimum=1,maximum=100"`
}

// kycForm is a KYC round's documents: up to five, under files (or file).
type kycForm struct {
	Files []api.File `json:"files" jsonschema:"maxItems=5" jsonschema_description:"PDF or image, at most 10 MiB each; the type is read from the bytes"`
	File  api.File   `json:"file"`
}

// imageForm is one portfolio image (file, or files).
type imageForm struct {
	File  api.File `json:"file" jsonschema_description:"JPEG, PNG, GIF or WebP, at most 10 MiB"`
	Files api.File `json:"files"`
}

// routes declares every operation of professionals once: the registry mounts it and
// describes it (served at /openapi.json, merged by the gateway).
func (s *svc) routes() error {
	reg := api.New(s.k.App, api.Config{Service: Name, Title: "professionals: profiles, trades, KYC, portfolio, search",
		Auth: s.k.Auth(), Internal: s.k.Internal(), Common: api.StoreErrors()})
	const v1 = "/api/v1"
	pro := []string{authn.RoleProfesional}
	admin := []string{authn.RoleAdmin}
	// A professional's own profile is created from auth's internal API on a miss.
	mine := []*apperr.Error{errNoProfile, apperr.Unavailable("service_unavailable", "", nil)}
	body400 := apperr.Invalid("invalid_data", "") // pg.Translate of a value the database refuses
	add := func(op api.Op) { reg.Add(op) }

	// Catalogue.
	add(api.Op{Method: "GET", Path: v1 + "/public/oficios", Access: api.Public, Summary: "The active trades",
		Answers: []api.Answer{api.JSON(200, []oficioRead{}, "by name")}, Handler: s.listOficios})
	add(api.Op{Method: "GET", Path: v1 + "/admin/oficios", Access: api.Authenticated, Summary: "Every trade, inactive ones too",
		Answers: []api.Answer{api.JSON(200, []oficioRead{}, "by name")}, Handler: s.listOficiosAdmin})
	add(api.Op{Method: "POST", Path: v1 + "/admin/oficios", Roles: admin, Summary: "Create a trade", Body: oficioInput{},
		Answers: []api.Answer{api.JSON(201, oficioRead{}, "")},
		Errors:  []*apperr.Error{apperr.Invalid("oficio_duplicado", ""), body400}, Handler: s.createOficio})
	add(api.Op{Method: "PUT", Path: v1 + "/admin/oficios/:id", Roles: admin, Summary: "Change a trade", Params: idPath{},
		Body: oficioInput{}, Answers: []api.Answer{api.JSON(200, oficioRead{}, "")},
		Errors: []*apperr.Error{errOficioNotFound, apperr.Invalid("oficio_duplicado", ""), body400}, Handler: s.updateOficio})
	add(api.Op{Method: "PATCH", Path: v1 + "/admin/oficios/:id/toggle", Roles: admin, Summary: "Enable or disable a trade",
		Params: idPath{}, Body: toggleBody{}, BodyOptional: true, Answers: []api.Answer{api.JSON(200, oficioRead{}, "")},
		Errors: []*apperr.Error{errOficioNotFound}, Handler: s.toggleOficio})
	add(api.Op{Method: "POST", Path: v1 + "/admin/servicios-instant", Roles: admin, Summary: "Create an instant service of a trade",
		Body: servicioInstantCreate{}, Answers: []api.Answer{api.JSON(201, servicioInstantRead{}, "")},
		Errors: []*apperr.Error{errOficioNotFound, apperr.Invalid("oficio_inactivo", ""), body400}, Handler: s.createServicioInstant})
	add(api.Op{Method: "GET", Path: v1 + "/admin/oficios/:id/servicios-instant", Access: api.Authenticated,
		Summary: "A trade's instant services", Params: idPath{}, Answers: []api.Answer{api.JSON(200, []servicioInstantRead{}, "")},
		Errors: []*apperr.Error{errOficioNotFound}, Handler: s.listServiciosInstant})

	// Self-service profile.
	add(api.Op{Method: "GET", Path: v1 + "/professional/me", Roles: pro, Summary: "One's professional profile",
		Answers: []api.Answer{api.JSON(200, profileRead{}, "")}, Errors: mine, Handler: s.getMe})
	profileErrors := append([]*apperr.Error{apperr.NotFound("oficios_not_found", ""), apperr.Invalid("oficio_inactivo", ""),
		apperr.Invalid("imagen_no_admitida", ""), body400}, mine...)
	for _, p := range []string{"/professional/me", "/professional/profile"} {
		add(api.Op{Method: "PUT", Path: v1 + p, Roles: pro, Summary: "Change one's professional profile",
			Description: "Every field is optional; an empty list clears. Location, payout account and trades are read under every spelling the frontend sends.",
			Body:        profileUpdate{}, Answers: []api.Answer{api.JSON(200, profileRead{}, "the profile as it is now")},
			Errors: profileErrors, Handler: s.updateProfile})
	}
	add(api.Op{Method: "PUT", Path: v1 + "/professional/profile/location", Roles: pro, Summary: "Set one's base location",
		Body: locationBody{}, Answers: []api.Answer{api.JSON(200, profileRead{}, "")}, Errors: mine, Handler: s.updateLocation})
	add(api.Op{Method: "PUT", Path: v1 + "/professional/profile/oficios", Roles: pro, Summary: "Replace one's trades",
		Body: oficioIDsBody{}, Answers: []api.Answer{api.JSON(200, []oficioRead{}, "one's trades")},
		Errors:  append([]*apperr.Error{apperr.NotFound("oficios_not_found", ""), apperr.Invalid("oficio_inactivo", "")}, mine...),
		Handler: s.updateOficios})
	add(api.Op{Method: "PUT", Path: v1 + "/professional/profile/servicios-instant", Roles: pro, Summary: "Replace one's instant services",
		Body: servicioIDsBody{}, Answers: []api.Answer{api.JSON(200, []servicioInstantRead{}, "")},
		Errors: append([]*apperr.Error{apperr.NotFound("servicios_not_found", "")}, mine...), Handler: s.updateServiciosInstant})
	for _, p := range []string{"/professional/payout-info", "/professional/payout"} {
		add(api.Op{Method: "PUT", Path: v1 + p, Roles: pro, Summary: "Set the account payouts go to (CBU/CVU or alias)",
			Body: payoutBody{}, Answers: []api.Answer{api.JSON(200, payoutResult{}, "")}, Errors: mine, Handler: s.updatePayout})
	}
	add(api.Op{Method: "GET", Path: v1 + "/professional/oficios", Roles: pro, Summary: "One's trades",
		Answers: []api.Answer{api.JSON(200, []oficioRead{}, "")}, Errors: mine, Handler: s.listMyOficios})
	add(api.Op{Method: "POST", Path: v1 + "/professional/oficios", Roles: pro, Summary: "Add a trade of the catalogue, by id or name",
		Body: myOficioInput{}, Answers: []api.Answer{api.JSON(201, oficioRead{}, "added"), api.JSON(200, oficioRead{}, "already one's")},
		Errors:  append([]*apperr.Error{errOficioNotFound, apperr.Invalid("oficio_no_en_catalogo", ""), apperr.Invalid("oficio_inactivo", "")}, mine...),
		Handler: s.addMyOficio})
	add(api.Op{Method: "DELETE", Path: v1 + "/professional/oficios/:id", Roles: pro, Summary: "Remove one of one's trades",
		Params: idPath{}, Answers: []api.Answer{{Status: 204, Description: "removed"}},
		Errors: append([]*apperr.Error{errOficioNotFound}, mine...), Handler: s.removeMyOficio})

	// KYC.
	kycErrors := append([]*apperr.Error{apperr.New(apperr.KindUnsupported, "unsupported_media_type", ""), apperr.Validation(),
		apperr.New(apperr.KindTooLarge, "file_too_large", ""), apperr.New(apperr.KindTooLarge, "body_too_large", ""),
		apperr.Invalid(upload.CodeUnsupportedType, ""), apperr.Invalid("kyc_ya_aprobado", ""),
		apperr.Invalid("kyc_demasiados_documentos", ""), apperr.Invalid("kyc_sin_documentos", ""),
		apperr.Unavailable("storage_unavailable", "", nil)}, mine...)
	kycForms := []api.Form{{MediaType: "multipart/form-data", Schema: kycForm{}}}
	add(api.Op{Method: "POST", Path: v1 + "/professional/kyc/upload", Roles: pro, Summary: "Upload KYC documents and ask for review",
		Forms: kycForms, Answers: []api.Answer{api.JSON(200, kycStatusRead{}, "in review")}, Errors: kycErrors, Handler: s.kycUpload})
	add(api.Op{Method: "POST", Path: v1 + "/professional/kyc/submit", Roles: pro,
		Summary: "Ask for review: with files as upload, without them the documents already uploaded",
		Forms:   kycForms, BodyOptional: true, Answers: []api.Answer{api.JSON(200, kycStatusRead{}, "in review")}, Errors: kycErrors,
		Handler: s.kycSubmit})
	add(api.Op{Method: "GET", Path: v1 + "/professional/kyc/status", Roles: pro, Summary: "One's verification state and documents",
		Answers: []api.Answer{api.JSON(200, kycStatusRead{}, "")}, Errors: mine, Handler: s.kycStatus})
	add(api.Op{Method: "GET", Path: v1 + "/professional/kyc/documentos/:id", Access: api.Authenticated,
		Summary: "A KYC document (its owner and admins only; anyone else gets 404)", Params: idPath{},
		Answers: []api.Answer{api.Bytes(200, "application/octet-stream", "the file, in its sniffed type")},
		Errors:  []*apperr.Error{apperr.NotFound("document_not_found", ""), apperr.NotFound("file_not_found", ""), apperr.Unavailable("storage_unavailable", "", nil)},
		Handler: s.kycDocument})
	for _, p := range []string{"/admin/kyc/pendientes", "/admin/kyc/pending"} {
		add(api.Op{Method: "GET", Path: v1 + p, Roles: admin, Summary: "Profiles in review, oldest submission first",
			Params: pageQuery{}, Answers: []api.Answer{api.JSON(200, []kycPendingRead{}, "")}, Handler: s.kycPending})
	}
	decide := []*apperr.Error{errNoProfile, apperr.Invalid("kyc_no_en_revision", "")}
	for _, at := range []struct{ method, path string }{{"POST", "/admin/kyc/approve/:id"}, {"PUT", "/admin/kyc/:id/approve"}} {
		add(api.Op{Method: at.method, Path: v1 + at.path, Roles: admin, Summary: "Approve a verification in review", Params: idPath{},
			Answers: []api.Answer{api.JSON(200, kycDecision{}, "")}, Errors: decide, Handler: s.kycApprove})
	}
	for _, at := range []struct{ method, path string }{{"POST", "/admin/kyc/reject/:id"}, {"PUT", "/admin/kyc/:id/reject"}} {
		add(api.Op{Method: at.method, Path: v1 + at.path, Roles: admin, Summary: "Reject a verification in review (reason optional)",
			Params: idPath{}, Body: kycRejectBody{}, BodyOptional: true, Answers: []api.Answer{api.JSON(200, kycDecision{}, "")},
			Errors: decide, Handler: s.kycReject})
	}

	// Portfolio.
	item := []*apperr.Error{errItemNotFound, errNoProfile}
	imageErrors := append([]*apperr.Error{apperr.New(apperr.KindUnsupported, "unsupported_media_type", ""), apperr.Validation(),
		apperr.New(apperr.KindTooLarge, "file_too_large", ""), apperr.New(apperr.KindTooLarge, "body_too_large", ""),
		apperr.Invalid(upload.CodeUnsupportedType, ""), apperr.Unavailable("storage_unavailable", "", nil)}, item...)
	add(api.Op{Method: "GET", Path: v1 + "/professional/portfolio", Roles: pro, Summary: "One's portfolio, newest first",
		Answers: []api.Answer{api.JSON(200, []portfolioItem{}, "")}, Errors: []*apperr.Error{errNoProfile}, Handler: s.listMyPortfolio})
	add(api.Op{Method: "POST", Path: v1 + "/professional/portfolio", Roles: pro, Summary: "Add a portfolio item",
		Body: portfolioInput{}, Answers: []api.Answer{api.JSON(201, portfolioItem{}, "")}, Errors: []*apperr.Error{errNoProfile},
		Handler: s.createPortfolioItem})
	add(api.Op{Method: "PUT", Path: v1 + "/professional/portfolio/:id", Roles: pro, Summary: "Change a portfolio item",
		Params: idPath{}, Body: portfolioInput{}, Answers: []api.Answer{api.JSON(200, portfolioItem{}, "")}, Errors: item,
		Handler: s.updatePortfolioItem})
	add(api.Op{Method: "DELETE", Path: v1 + "/professional/portfolio/:id", Roles: pro, Summary: "Delete a portfolio item and its images",
		Params: idPath{}, Answers: []api.Answer{{Status: 204, Description: "deleted"}}, Errors: item, Handler: s.deletePortfolioItem})
	add(api.Op{Method: "POST", Path: v1 + "/professional/portfolio/:id/image", Roles: pro, Summary: "Append an image to an item",
		Params: idPath{}, Forms: []api.Form{{MediaType: "multipart/form-data", Schema: imageForm{}}},
		Answers: []api.Answer{api.JSON(200, portfolioItem{}, "the item")}, Errors: imageErrors, Handler: s.addPortfolioImage})
	add(api.Op{Method: "POST", Path: v1 + "/professional/portfolio/:id/images", Roles: pro,
		Summary:     "Append images: one uploaded file (as /image), or a JSON list of URLs of one's own portfolio images",
		Description: "The multipart form answers the item; the JSON list answers the item's images for those URLs, in the order given.",
		Params:      idPath{}, Body: []string{}, Forms: []api.Form{{MediaType: "multipart/form-data", Schema: imageForm{}}},
		Answers: []api.Answer{api.JSON(200, []portfolioImage{}, "the images (JSON) or the item (multipart)")},
		Errors:  append([]*apperr.Error{apperr.Invalid("imagen_no_admitida", "")}, imageErrors...), Handler: s.addPortfolioImages})
	for _, p := range []string{"/professional/portfolio/:id/image/:image_id", "/professional/portfolio/:id/images/:image_id"} {
		add(api.Op{Method: "DELETE", Path: v1 + p, Roles: pro, Summary: "Delete an image of an item", Params: itemImagePath{},
			Answers: []api.Answer{{Status: 204, Description: "deleted"}},
			Errors:  append([]*apperr.Error{apperr.NotFound("portfolio_image_not_found", "")}, item...), Handler: s.deletePortfolioImage})
	}
	add(api.Op{Method: "GET", Path: v1 + "/public/portfolio/imagenes/:name", Access: api.Public, Summary: "A portfolio image",
		Params: imageNamePath{}, Answers: []api.Answer{api.Bytes(200, "image/*", "the image (cached for a year)")},
		Errors:  []*apperr.Error{apperr.NotFound("file_not_found", ""), apperr.Unavailable("storage_unavailable", "", nil)},
		Handler: s.servePortfolioImage})

	// Published fixed-price services.
	servicio := []*apperr.Error{errServicioNotFound, errNoProfile}
	add(api.Op{Method: "POST", Path: v1 + "/profesional/servicios", Roles: pro, Summary: "Publish a fixed-price service",
		Body: servicioInput{}, Answers: []api.Answer{api.JSON(201, servicioRead{}, "")},
		Errors: []*apperr.Error{errNoProfile, errOficioNotFound, apperr.Invalid("oficio_inactivo", ""), body400}, Handler: s.createServicio})
	add(api.Op{Method: "GET", Path: v1 + "/profesional/servicios/me", Roles: pro, Summary: "One's published services",
		Answers: []api.Answer{api.JSON(200, []servicioRead{}, "")}, Errors: []*apperr.Error{errNoProfile}, Handler: s.listMyServicios})
	add(api.Op{Method: "PUT", Path: v1 + "/profesional/servicios/:id", Roles: pro, Summary: "Change one of one's services",
		Params: idPath{}, Body: servicioInput{}, Answers: []api.Answer{api.JSON(200, servicioRead{}, "")},
		Errors:  append([]*apperr.Error{errOficioNotFound, apperr.Invalid("oficio_inactivo", ""), body400}, servicio...),
		Handler: s.updateServicio})
	add(api.Op{Method: "DELETE", Path: v1 + "/profesional/servicios/:id", Roles: pro, Summary: "Withdraw one of one's services",
		Params: idPath{}, Answers: []api.Answer{{Status: 204, Description: "withdrawn"}}, Errors: servicio, Handler: s.deleteServicio})
	add(api.Op{Method: "GET", Path: v1 + "/servicios", Access: api.Public, Summary: "Services of approved professionals, newest first",
		Params: serviciosQuery{}, Answers: []api.Answer{api.JSON(200, []servicioRead{}, "")}, Handler: s.listServiciosPublic})

	// Public profile and search.
	visible := []*apperr.Error{apperr.NotFound("profesional_not_found", ""), apperr.NotFound("profesional_no_disponible", "")}
	add(api.Op{Method: "GET", Path: v1 + "/public/professional/:id", Access: api.Public,
		Summary: "A professional's public profile (never email or payout)", Params: idPath{},
		Answers: []api.Answer{api.JSON(200, publicProfileRead{}, "")}, Errors: visible, Handler: s.publicProfile})
	add(api.Op{Method: "GET", Path: v1 + "/public/professional/:id/portfolio", Access: api.Public, Summary: "A professional's portfolio",
		Params: idPath{}, Answers: []api.Answer{api.JSON(200, []portfolioItem{}, "")}, Errors: visible, Handler: s.publicPortfolio})
	add(api.Op{Method: "GET", Path: v1 + "/search/professionals", Access: api.Public,
		Summary: "Professionals of a trade whose coverage contains a point (X-Total-Count: the total)", Params: coverageQuery{},
		Answers: []api.Answer{api.JSON(200, []SearchResult{}, "")}, Handler: s.searchCoverage})
	for _, at := range []struct{ path, id string }{{"/search", ""}, {"/search/", "post_search_slash"}} {
		add(api.Op{Method: "POST", Path: v1 + at.path, ID: at.id, Access: api.Public, Summary: "Search professionals around a point",
			Body: searchBody{}, BodyOptional: true, Answers: []api.Answer{api.JSON(200, searchPageRead{}, "")},
			Errors: []*apperr.Error{errOficioNotFound}, Handler: s.searchRadius})
	}

	// Internal reads for other services.
	add(api.Op{Method: "GET", Path: "/internal/professionals/by-user/:usuario_id", Access: api.Internal,
		Summary: "A professional by user id", Params: usuarioPath{}, Answers: []api.Answer{api.JSON(200, internalProfessional{}, "")},
		Errors: []*apperr.Error{errNoProfile}, Handler: s.internalByUser})
	add(api.Op{Method: "GET", Path: "/internal/servicios/:id", Access: api.Internal, Summary: "A published service",
		Params: idPath{}, Answers: []api.Answer{api.JSON(200, internalServicioRead{}, "")},
		Errors: []*apperr.Error{errServicioNotFound}, Handler: s.internalServicio})
	return reg.Serve("/openapi.json")
}
