use proptest::prelude::*;

use super::*;
use PaymentStatus as P;
use StatusSource as S;

const SOURCES: [StatusSource; 7] =
    [S::ProviderResponse, S::Timeout, S::Webhook, S::Inquiry, S::Expiry, S::Cancellation, S::Resolution];

#[test]
fn final_attempt_states_never_change() {
    for from in P::ALL.into_iter().filter(|s| s.is_final()) {
        for to in P::ALL {
            for source in SOURCES {
                let result = from.transition(to, source);
                if from == to {
                    assert_eq!(result, Ok(Transition::Unchanged));
                } else if from != P::Succeeded
                    && to == P::Succeeded
                    && matches!(source, S::Webhook | S::Inquiry)
                {
                    assert_eq!(result.unwrap_err().reason, TransitionRejection::LatePayment, "{from}->{to}");
                } else {
                    assert_eq!(result.unwrap_err().reason, TransitionRejection::Final, "{from}->{to}");
                }
            }
        }
    }
}

#[test]
fn unknown_is_settled_only_by_the_provider() {
    for to in [P::Succeeded, P::Failed, P::Processing, P::RequiresAction, P::Expired, P::Cancelled] {
        for source in [S::ProviderResponse, S::Timeout, S::Expiry, S::Cancellation] {
            let err = P::Unknown.transition(to, source).unwrap_err();
            assert_eq!(err.reason, TransitionRejection::UnknownNeedsProvider, "{to} by {source:?}");
        }
    }
    assert_eq!(P::Unknown.transition(P::Succeeded, S::Webhook), Ok(Transition::Changed(P::Succeeded)));
    assert_eq!(P::Unknown.transition(P::Failed, S::Inquiry), Ok(Transition::Changed(P::Failed)));
}

#[test]
fn a_timeout_makes_an_attempt_unknown_never_failed() {
    assert_eq!(P::Processing.transition(P::Unknown, S::Timeout), Ok(Transition::Changed(P::Unknown)));
    for to in [P::Failed, P::Succeeded, P::Expired, P::Cancelled, P::RequiresAction] {
        assert_eq!(
            P::Processing.transition(to, S::Timeout).unwrap_err().reason,
            TransitionRejection::WrongSource
        );
    }
}

#[test]
fn an_answer_about_another_amount_makes_an_open_attempt_unknown() {
    for from in [P::Processing, P::RequiresAction] {
        for source in [S::ProviderResponse, S::Webhook, S::Inquiry] {
            assert_eq!(from.transition(P::Unknown, source), Ok(Transition::Changed(P::Unknown)));
        }
    }
    // A final attempt stays final.
    assert_eq!(
        P::Succeeded.transition(P::Unknown, S::Webhook).unwrap_err().reason,
        TransitionRejection::Final
    );
}

#[test]
fn the_happy_paths() {
    assert_eq!(
        P::Processing.transition(P::RequiresAction, S::ProviderResponse),
        Ok(Transition::Changed(P::RequiresAction))
    );
    assert_eq!(
        P::RequiresAction.transition(P::Processing, S::Webhook),
        Ok(Transition::Changed(P::Processing))
    );
    assert_eq!(P::RequiresAction.transition(P::Succeeded, S::Webhook), Ok(Transition::Changed(P::Succeeded)));
    assert_eq!(P::RequiresAction.transition(P::Expired, S::Expiry), Ok(Transition::Changed(P::Expired)));
    assert_eq!(
        P::Processing.transition(P::Cancelled, S::Cancellation),
        Ok(Transition::Changed(P::Cancelled))
    );
    // Kasir's own clock and the merchant cannot invent a payment outcome.
    assert_eq!(
        P::Processing.transition(P::Succeeded, S::Expiry).unwrap_err().reason,
        TransitionRejection::WrongSource
    );
    assert_eq!(
        P::Processing.transition(P::Failed, S::Cancellation).unwrap_err().reason,
        TransitionRejection::WrongSource
    );
}

#[test]
fn sessions() {
    use SessionStatus as Ss;
    assert_eq!(
        Ss::Open.transition(Ss::Processing, S::ProviderResponse),
        Ok(Transition::Changed(Ss::Processing))
    );
    assert_eq!(Ss::Processing.transition(Ss::Open, S::Webhook), Ok(Transition::Changed(Ss::Open)));
    assert_eq!(
        Ss::Processing.transition(Ss::Expired, S::Expiry).unwrap_err().reason,
        TransitionRejection::NotAllowed
    );
    assert_eq!(
        Ss::Open.transition(Ss::Expired, S::Webhook).unwrap_err().reason,
        TransitionRejection::WrongSource
    );
    assert_eq!(
        Ss::Succeeded.transition(Ss::Open, S::Webhook).unwrap_err().reason,
        TransitionRejection::NotAllowed
    );
    assert_eq!(
        Ss::Succeeded.transition(Ss::Refunded, S::ProviderResponse),
        Ok(Transition::Changed(Ss::Refunded))
    );
    assert_eq!(
        Ss::Refunded.transition(Ss::Succeeded, S::Webhook).unwrap_err().reason,
        TransitionRejection::Final
    );
    assert!(
        Ss::Open.accepts_attempts()
            && !Ss::Processing.accepts_attempts()
            && !Ss::Succeeded.accepts_attempts()
    );
    assert_eq!(Ss::after_attempt(P::Unknown), Ss::Processing);
    assert_eq!(Ss::after_attempt(P::Failed), Ss::Open);
    for s in Ss::ALL {
        assert_eq!(Ss::from_wire(s.as_str()), Some(s));
        assert_eq!(serde_json::to_string(&s).unwrap(), format!("\"{}\"", s.as_str()));
    }
    for s in P::ALL {
        assert_eq!(P::from_wire(s.as_str()), Some(s));
        assert_eq!(serde_json::to_string(&s).unwrap(), format!("\"{}\"", s.as_str()));
    }
}

fn any_status() -> impl Strategy<Value = PaymentStatus> {
    prop::sample::select(P::ALL.to_vec())
}

fn any_source() -> impl Strategy<Value = StatusSource> {
    prop::sample::select(SOURCES.to_vec())
}

proptest! {
    /// Any sequence of reports, applied as the server would (refusals ignored):
    /// once final, the status is fixed; unknown is left only by provider word.
    #[test]
    fn random_report_sequences_respect_the_rules(reports in prop::collection::vec((any_status(), any_source()), 0..40)) {
        let mut status = P::Processing;
        let mut final_seen: Option<PaymentStatus> = None;
        for (to, source) in reports {
            let before = status;
            if let Ok(Transition::Changed(next)) = status.transition(to, source) {
                status = next;
            }
            if let Some(f) = final_seen {
                prop_assert_eq!(status, f);
            }
            if before == P::Unknown && status != P::Unknown {
                // The provider's word, or the merchant's after checking with it.
                prop_assert!(matches!(source, S::Webhook | S::Inquiry | S::Resolution));
            }
            if status.is_final() {
                final_seen = Some(status);
            }
        }
    }
}

#[test]
fn money_after_a_final_unpaid_state_is_a_late_payment_not_a_change() {
    for from in [P::Failed, P::Expired, P::Cancelled] {
        for source in [S::Webhook, S::Inquiry] {
            let err = from.transition(P::Succeeded, source).unwrap_err();
            assert_eq!(err.reason, TransitionRejection::LatePayment, "{from} by {source:?}");
        }
        // Kasir's own clocks and the shopper never invent money.
        for source in [S::ProviderResponse, S::Timeout, S::Expiry, S::Cancellation, S::Resolution] {
            assert_eq!(from.transition(P::Succeeded, source).unwrap_err().reason, TransitionRejection::Final);
        }
    }
}

#[test]
fn a_merchant_resolution_settles_only_what_kasir_cannot_learn() {
    for from in [P::Unknown, P::Processing] {
        for to in [P::Succeeded, P::Failed] {
            assert_eq!(from.transition(to, S::Resolution), Ok(Transition::Changed(to)));
        }
        for to in [P::RequiresAction, P::Expired, P::Cancelled] {
            assert_eq!(
                from.transition(to, S::Resolution).unwrap_err().reason,
                TransitionRejection::WrongSource
            );
        }
    }
    assert_eq!(
        P::RequiresAction.transition(P::Succeeded, S::Resolution).unwrap_err().reason,
        TransitionRejection::WrongSource
    );
    // The session follows: paid, or open again.
    assert_eq!(
        SessionStatus::Processing.transition(SessionStatus::Succeeded, S::Resolution),
        Ok(Transition::Changed(SessionStatus::Succeeded))
    );
    assert_eq!(
        SessionStatus::Processing.transition(SessionStatus::Open, S::Resolution),
        Ok(Transition::Changed(SessionStatus::Open))
    );
}
