package main

// paymentsDevExtra starts the MercadoPago simulator for dev (owned by the payments work).
func paymentsDevExtra() devExtra { return devExtra{name: "mercadopago-simulator"} }
