package main

// authDevExtra creates the admin from ADMIN_EMAIL/ADMIN_PASSWORD (owned by the identity work).
func authDevExtra() devExtra { return devExtra{name: "admin-bootstrap"} }
