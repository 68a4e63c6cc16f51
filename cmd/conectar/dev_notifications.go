package main

// notificationsDevExtra starts the SMTP catcher for dev (owned by the notifications work).
func notificationsDevExtra() devExtra { return devExtra{name: "smtp-catcher"} }
