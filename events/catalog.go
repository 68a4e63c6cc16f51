package events

// Catalog returns a zero value of every event type and version, the list that golden
// tests, documentation and the operator tool walk.
func Catalog() []Event {
	return []Event{
		UserRegisteredV1{}, UserBannedV1{}, UserUnbannedV1{}, PasswordResetRequestedV1{}, PasswordChangedV1{},
		UserProfileUpdatedV1{}, UserChatBannedV1{},
		ProfessionalProfileUpdatedV1{}, KYCSubmittedV1{}, KYCApprovedV1{}, KYCRejectedV1{},
		TradeUpdatedV1{}, TradeToggledV1{},
		ConversationStartedV1{}, MessageSentV1{}, ChatInfractionDetectedV1{},
		OfferCreatedV1{}, OfferAcceptedV1{}, OfferRejectedV1{}, OfferExpiredV1{}, OfferWithdrawnV1{}, OfferUpdatedV1{},
		JobStartedV1{}, JobDeliveredV1{}, JobCompletedV1{}, JobCancelledV1{},
		DisputeOpenedV1{}, DisputeResolvedV1{}, ReviewPostedV1{},
		DisputeCancelledV1{}, ReviewUpdatedV1{}, ReviewDeletedV1{}, ReviewRepliedV1{},
		PaymentCheckoutCreatedV1{}, PaymentCheckoutFailedV1{}, PaymentCheckoutExpiredV1{},
		PaymentApprovedV1{}, PaymentRejectedV1{}, PaymentRefundedV1{}, PaymentChargedBackV1{}, PaymentChargebackReversedV1{},
		EscrowHeldV1{}, EscrowReleasedV1{}, PayoutSentV1{}, PayoutFailedV1{}, RefundIssuedV1{},
		WithdrawalRequestedV1{}, WithdrawalApprovedV1{}, WithdrawalRejectedV1{},
		XPAwardedV1{}, LevelChangedV1{}, MedalAwardedV1{},
	}
}
